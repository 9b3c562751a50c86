"""Model.ipynb runs top to bottom on a tiny synthetic dataset, and is committed without outputs."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO
from tests.fakes import save_tiny_model
from tests.synthetic import make_root

NOTEBOOK = REPO / "Model.ipynb"


def test_notebook_is_committed_without_outputs_and_starts_with_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.cells[0].cell_type == "code" and nb.cells[1].cell_type == "code"
    first, second = nb.cells[0].source, nb.cells[1].source
    for name in ("PERSONSEG_TRAIN_DATA", "PERSONSEG_VAL_DATA", "PERSONSEG_WEIGHTS", "PERSONSEG_EPOCHS"):
        assert name in first
    assert '"google.colab" in sys.modules' in second
    assert "git+https://github.com/personseg/personseg" in second
    lines = [line.strip() for cell in code for line in cell.source.splitlines()]
    assert not [line for line in lines if line.startswith(("!", "%"))]  # the package API, not shell
    source = "\n".join(lines)
    for call in ('build_model("shallow"', 'encoder="none"', "encoder_weights=None", "evaluate(", "Segmenter"):
        assert call in source, call
    assert "personseg train" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def run_notebook(tmp_path, monkeypatch, weights, cells: list[int] | None = None) -> nbformat.NotebookNode:
    data = make_root(tmp_path / "data", n=6, size=(40, 56), split="train")
    make_root(tmp_path / "data", n=4, size=(48, 36), split="val", seed=1)
    env = {
        "PERSONSEG_TRAIN_DATA": f"{data}:train", "PERSONSEG_VAL_DATA": f"{data}:val",
        "PERSONSEG_WEIGHTS": str(weights), "PERSONSEG_RUN_DIR": str(tmp_path / "run"),
        "PERSONSEG_SIZE": "32", "PERSONSEG_EPOCHS": "1", "PERSONSEG_STEPS": "2",
        "PERSONSEG_BATCH_SIZE": "4", "PERSONSEG_BASE_FILTERS": "4", "PERSONSEG_EVAL_LIMIT": "4",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if cells is not None:
        nb.cells = [nb.cells[i] for i in cells]
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def outputs_text(nb) -> str:
    return "\n".join(
        out.get("text", "") + "".join(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )


@pytest.mark.slow
def test_notebook_runs_end_to_end_on_tiny_data(tmp_path, monkeypatch):
    weights = save_tiny_model(tmp_path / "weights.h5")
    nb = run_notebook(tmp_path, monkeypatch, weights)
    text = outputs_text(nb)
    assert "train: 6 image/mask pairs" in text and "val: 4 image/mask pairs" in text
    assert "IoU (pooled)" in text and "images: 4 (3 with people, 1 without)" in text
    assert "shipped model (" in text
    assert "of pixels are person" in text  # quick inference ran with the given weights
    assert (tmp_path / "run" / "model.h5").is_file() and (tmp_path / "run" / "log.csv").is_file()
    pngs = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs)
    assert pngs == 4  # curves, two result grids, the inference panel


def test_quick_inference_skips_with_a_message_when_weights_are_absent(tmp_path, monkeypatch):
    """Parameters, Colab, set-up and the last cell only (it is self-contained), no weights file."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    nb = run_notebook(tmp_path, monkeypatch, tmp_path / "absent.h5", cells=[*code[:3], code[-1]])
    assert "absent.h5 not found: skipping quick inference" in outputs_text(nb)
