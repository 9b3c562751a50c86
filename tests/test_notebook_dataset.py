"""'Dataset Preparation.ipynb': title first, plain parameters, runs top to bottom on tiny
synthetic COCO data with nothing on stderr; committed without outputs."""

from __future__ import annotations

import sys

import nbformat
import pytest

from personseg.data.dataset_layout import find_pairs
from tests.conftest import REPO
from tests.notebooks import execute, outputs_text, parameters_cell, png_count, stderr_outputs
from tests.synthetic_coco import make_coco

NOTEBOOK = REPO / "Dataset Preparation.ipynb"


def test_notebook_is_committed_without_outputs_title_first_then_plain_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# personseg")
    params = parameters_cell(nb)
    assert params is nb.cells[1]
    for name in ("COCO_ANN", "COCO_IMAGES", "OUT", "LIMIT", "SHOW"):
        assert f"\n{name} = " in f"\n{params.source}"
    assert "environ" not in params.source and "import" not in params.source  # plain values only
    assert "instances_minival.json" in params.source and "data/notebook-sample" in params.source
    assert '"google.colab" in sys.modules' in nb.cells[2].source
    assert "git+https://github.com/personseg/personseg" in nb.cells[2].source
    lines = [line.strip() for cell in code for line in cell.source.splitlines()]
    assert not [line for line in lines if line.startswith(("!", "%"))]  # the package API, not shell
    assert "from personseg.data.prepare_coco import prepare" in "\n".join(lines)
    assert "train2017" in nb.cells[-1].source and "annotations_trainval2017.zip" in nb.cells[-1].source


@pytest.mark.slow
def test_notebook_runs_end_to_end_on_tiny_coco_with_nothing_on_stderr(tmp_path):
    ann, images = make_coco(tmp_path / "coco")
    out = tmp_path / "prepared"
    parameters = {"COCO_ANN": ann, "COCO_IMAGES": images, "OUT": out, "SPLIT": "train", "LIMIT": 0, "SHOW": 3}
    nb = execute(NOTEBOOK, tmp_path, parameters, extra="import sys\nprint('kernel:', sys.executable)",
                 timeout=120)
    text = outputs_text(nb)
    assert f"kernel: {sys.executable}" in text
    assert "done (train): 5 images (5 written, 0 already done), 5 person instances, 1 crowd region," in text
    assert "prepare train: 100%" in text  # the progress bar: one line on stdout, not a stderr block
    assert "images: 5 (3 with people, 2 without)" in text
    assert "person instances: 5 (max 2 in one image), crowd regions: 1" in text
    assert png_count(nb) == 2  # overlays, statistics
    assert stderr_outputs(nb) == []
    assert len(find_pairs(out, "train")) == 5 and (out / "manifest_train.csv").is_file()
