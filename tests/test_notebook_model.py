"""Model.ipynb: title first, plain parameters, runs top to bottom on a tiny synthetic dataset with
nothing on stderr, and is committed without outputs."""

from __future__ import annotations

import re

import nbformat
import pytest

from tests.conftest import REPO
from tests.fakes import save_tiny_model
from tests.notebooks import execute, outputs_text, parameters_cell, png_count, stderr_outputs
from tests.synthetic import make_root

NOTEBOOK = REPO / "Model.ipynb"


def test_notebook_is_committed_without_outputs_title_first_then_plain_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# personseg")
    params = parameters_cell(nb)
    assert params is nb.cells[1]
    for name in ("TRAIN_DATA", "VAL_DATA", "WEIGHTS", "EPOCHS", "SHOW_FULL_SUMMARY"):
        assert f"\n{name} = " in f"\n{params.source}"
    assert "environ" not in params.source and "import" not in params.source  # plain values only
    assert '"google.colab" in sys.modules' in nb.cells[2].source
    assert "git+https://github.com/personseg/personseg" in nb.cells[2].source
    lines = [line.strip() for cell in code for line in cell.source.splitlines()]
    assert not [line for line in lines if line.startswith(("!", "%"))]  # the package API, not shell
    source = "\n".join(lines)
    for call in ('build_model("shallow"', 'encoder="none"', "encoder_weights=None", "evaluate(", "Segmenter",
                 "describe(model", "quiet()"):
        assert call in source, call
    assert "personseg train" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def run_notebook(tmp_path, weights, cells: list[int] | None = None) -> nbformat.NotebookNode:
    data = make_root(tmp_path / "data", n=6, size=(40, 56), split="train")
    make_root(tmp_path / "data", n=4, size=(48, 36), split="val", seed=1)
    parameters = {
        "TRAIN_DATA": f"{data}:train", "VAL_DATA": f"{data}:val", "WEIGHTS": weights,
        "RUN_DIR": tmp_path / "run", "SIZE": 32, "EPOCHS": 1, "STEPS_PER_EPOCH": 2, "BATCH_SIZE": 4,
        "BASE_FILTERS": 4, "EVAL_LIMIT": 4,
    }
    return execute(NOTEBOOK, tmp_path, parameters, cells=cells)


@pytest.mark.slow
def test_notebook_runs_end_to_end_on_tiny_data_with_nothing_on_stderr(tmp_path):
    weights = save_tiny_model(tmp_path / "weights.h5")
    nb = run_notebook(tmp_path, weights)
    text = outputs_text(nb)
    assert "train: 6 image/mask pairs" in text and "val: 4 image/mask pairs" in text
    assert "shallow: 50,801 parameters" in text and "M multiply-adds at 32×32" in text  # describe()
    assert "Model: " not in text  # no full summary() tables unless SHOW_FULL_SUMMARY
    assert re.search(r"^2/2 - \d+s - ", text, re.M)  # one line per epoch (verbose=2)
    assert "IoU (pooled)" in text and "images: 4 (3 with people, 1 without)" in text
    assert "shipped model (" in text
    assert "of pixels are person" in text  # quick inference ran with the given weights
    assert (tmp_path / "run" / "model.h5").is_file() and (tmp_path / "run" / "log.csv").is_file()
    assert png_count(nb) == 4  # curves, two result grids, the inference panel
    # no TensorFlow C++ logs, progress bars, Keras `shuffle` or HDF5 "legacy" notices
    assert stderr_outputs(nb) == []


def test_quick_inference_skips_with_a_message_when_weights_are_absent(tmp_path):
    """Parameters, Colab, set-up and the last cell only (it is self-contained), no weights file."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    nb = run_notebook(tmp_path, tmp_path / "absent.h5", cells=[*code[:3], code[-1]])
    assert "absent.h5 not found: skipping quick inference" in outputs_text(nb)
    assert stderr_outputs(nb) == []
