"""Model.ipynb: title first, plain parameters, quick inference before anything that needs data,
runs top to bottom on a tiny synthetic dataset with nothing on stderr, falls back to the
package's copy of the shipped model, and is committed without outputs."""

from __future__ import annotations

import re

import nbformat
import pytest

from tests.conftest import REPO
from tests.fakes import save_tiny_model
from tests.notebooks import execute, outputs_text, parameters_cell, png_count, stderr_outputs
from tests.synthetic import make_root

NOTEBOOK = REPO / "Model.ipynb"
# a tiny from-scratch U-Net: seconds, and no ImageNet file needed
TINY = {"size": 32, "epochs": 1, "steps_per_epoch": 2, "batch_size": 4, "encoder": "none", "base_filters": 4}


def test_notebook_is_committed_without_outputs_title_first_then_plain_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# personseg")
    params = parameters_cell(nb)
    assert params is nb.cells[1]
    for name in ("REPO_URL", "DATA", "WEIGHTS", "RECIPE", "OVERRIDES", "DOWNLOAD", "EVAL_LIMIT",
                 "SHOW_FULL_SUMMARY"):
        assert f"\n{name} = " in f"\n{params.source}"
    assert "environ" not in params.source and "import" not in params.source  # plain values only
    assert '"data/coco-sample"' in params.source  # what Dataset Preparation.ipynb writes
    colab = nb.cells[2].source
    assert '"google.colab" in sys.modules' in colab and "[train] @ git+{REPO_URL}" in colab
    lines = [line.strip() for cell in code for line in cell.source.splitlines()]
    assert not [line for line in lines if line.startswith(("!", "%"))]  # the package API, not shell
    # quick inference comes before anything that needs data
    first_data = next(i for i, cell in enumerate(code) if "prepare_sample" in cell.source)
    assert any("Segmenter.pretrained()" in cell.source for cell in code[:first_data])
    source = "\n".join(lines)
    for call in ('init=f"pretrained:{name}"', 'encoder_weights="none"', "evaluate(", "Segmenter",
                 "describe(model", "quiet()", "choose_recipe(RECIPE", "recipe_config("):
        assert call in source, call
    assert "personseg train" in "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def run_notebook(tmp_path, weights, cells: list[int] | None = None, data=None) -> nbformat.NotebookNode:
    if data is None:
        data = make_root(tmp_path / "data", n=6, size=(40, 56), split="train")
        make_root(tmp_path / "data", n=4, size=(48, 36), split="val", seed=1)
    parameters = {"DATA": data, "WEIGHTS": weights, "RUN_DIR": tmp_path / "run", "OVERRIDES": TINY,
                  "EVAL_LIMIT": 4}
    return execute(NOTEBOOK, tmp_path, parameters, cells=cells)


@pytest.mark.slow
def test_notebook_runs_end_to_end_on_tiny_data_with_nothing_on_stderr(tmp_path):
    weights = save_tiny_model(tmp_path / "weights.h5")
    nb = run_notebook(tmp_path, weights)
    text = outputs_text(nb)
    assert re.search(r"\d GPU\(s\): recipe '(cpu|gpu)'", text)
    assert f"shipped model: {weights}" in text and "of pixels are person" in text
    assert ":train: 6 image/mask pairs" in text and ":val: 4 image/mask pairs" in text
    assert "pretrained:shallow (" in text and "M multiply-adds at 32×32" in text  # describe()
    assert "Model: " not in text  # no full summary() tables unless SHOW_FULL_SUMMARY
    assert re.search(r"^2/2 - \d+s - ", text, re.M)  # one line per epoch (verbose=2)
    assert "IoU (pooled)" in text and "images: 4 (3 with people, 1 without)" in text
    assert "shipped model:\n" in text
    assert (tmp_path / "run" / "model.h5").is_file() and (tmp_path / "run" / "log.csv").is_file()
    assert png_count(nb) == 4  # inference panel, curves, two result grids
    # no TensorFlow C++ logs, progress bars, Keras `shuffle` or HDF5 "legacy" notices
    assert stderr_outputs(nb) == []


@pytest.mark.slow
def test_without_weights_h5_the_packaged_copy_runs_and_without_data_the_rest_skips(tmp_path):
    """No weights file, no data and no COCO sample (cwd has no ../shared): quick inference uses
    the package's copy, the architectures are described, and the data cell says what to do."""
    nb = run_notebook(tmp_path, tmp_path / "absent.h5", data=tmp_path / "no-data")
    text = outputs_text(nb)
    assert "absent.h5 is not here: using the package's copy of the same model" in text
    assert "of pixels are person" in text and "pretrained:unet (the most accurate shipped model" in text
    assert "No COCO files to prepare" in text and 'set DOWNLOAD = "yes"' in text
    assert png_count(nb) == 1 and stderr_outputs(nb) == []
    assert not (tmp_path / "run").exists()
