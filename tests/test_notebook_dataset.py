"""'Dataset Preparation.ipynb' runs top to bottom on tiny synthetic COCO data; committed without outputs."""

from __future__ import annotations

import sys

import nbformat
import pytest
from nbclient import NotebookClient

from personseg.data.dataset_layout import find_pairs
from tests.conftest import REPO
from tests.synthetic_coco import make_coco

NOTEBOOK = REPO / "Dataset Preparation.ipynb"


def test_notebook_is_committed_without_outputs_and_starts_with_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.cells[0].cell_type == "code" and nb.cells[1].cell_type == "code"
    first, second = nb.cells[0].source, nb.cells[1].source
    for name in ("PERSONSEG_COCO_ANN", "PERSONSEG_COCO_IMAGES", "PERSONSEG_OUT", "PERSONSEG_LIMIT"):
        assert name in first
    assert "instances_minival.json" in first and "data/notebook-sample" in first
    assert '"google.colab" in sys.modules' in second
    assert "git+https://github.com/personseg/personseg" in second
    lines = [line.strip() for cell in code for line in cell.source.splitlines()]
    assert not [line for line in lines if line.startswith(("!", "%"))]  # the package API, not shell
    assert "from personseg.data.prepare_coco import prepare" in "\n".join(lines)
    assert "train2017" in nb.cells[-1].source and "annotations_trainval2017.zip" in nb.cells[-1].source


@pytest.mark.slow
def test_notebook_runs_end_to_end_on_tiny_coco(tmp_path, monkeypatch):
    ann, images = make_coco(tmp_path / "coco")
    out = tmp_path / "prepared"
    env = {"PERSONSEG_COCO_ANN": str(ann), "PERSONSEG_COCO_IMAGES": str(images), "PERSONSEG_OUT": str(out),
           "PERSONSEG_SPLIT": "train", "PERSONSEG_LIMIT": "0", "PERSONSEG_SHOW": "3"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint('kernel:', sys.executable)"))
    # "python3" is the kernelspec ipykernel installs into the venv; jupyter_client starts it with
    # sys.executable, so the notebook runs in this interpreter (checked below)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    text = "\n".join(o.get("text", "") for o in outputs)
    assert f"kernel: {sys.executable}" in text
    assert "done (train): 5 images (5 written, 0 already done), 5 person instances, 1 crowd regions" in text
    assert "images: 5 (3 with people, 2 without)" in text
    assert "person instances: 5 (max 2 in one image), crowd regions: 1" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2  # overlays, statistics
    assert len(find_pairs(out, "train")) == 5 and (out / "manifest_train.csv").is_file()
