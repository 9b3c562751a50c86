"""'Dataset Preparation.ipynb': title first, plain parameters, prepares train and val on tiny
synthetic COCO data with nothing on stderr, downloads a sample when asked (from the fake COCO
server on 127.0.0.1); committed without outputs."""

from __future__ import annotations

import sys

import nbformat
import pytest

from personseg.data.dataset_layout import find_pairs
from tests.conftest import REPO
from tests.fake_coco_server import ARCHIVE_PATH, FakeCoco, Server
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
    for name in ("REPO_URL", "OUT", "TRAIN_ANNOTATIONS", "VAL_ANNOTATIONS", "DOWNLOAD", "LIMIT", "SHOW"):
        assert f"\n{name} = " in f"\n{params.source}"
    assert "environ" not in params.source and "import" not in params.source  # plain values only
    assert "instances_minitrain.json" in params.source and '"data/coco-sample"' in params.source
    assert '"google.colab" in sys.modules' in nb.cells[2].source and "git+{REPO_URL}" in nb.cells[2].source
    lines = [line.strip() for cell in code for line in cell.source.splitlines()]
    assert not [line for line in lines if line.startswith(("!", "%"))]  # the package API, not shell
    assert "from personseg.data.coco_sample import prepare_sample" in "\n".join(lines)
    assert "personseg download coco" in nb.cells[-1].source and "train2017" in nb.cells[-1].source


@pytest.mark.slow
def test_notebook_prepares_both_splits_of_tiny_coco_with_nothing_on_stderr(tmp_path):
    ann, images = make_coco(tmp_path / "coco")
    out = tmp_path / "prepared"
    parameters = {"TRAIN_ANNOTATIONS": ann, "TRAIN_IMAGES": images, "VAL_ANNOTATIONS": ann,
                  "VAL_IMAGES": images, "OUT": out, "SHOW": 3}
    nb = execute(NOTEBOOK, tmp_path, parameters, extra="import sys\nprint('kernel:', sys.executable)",
                 timeout=120)
    text = outputs_text(nb)
    assert f"kernel: {sys.executable}" in text
    assert "done (train): 5 images (5 written, 0 already done), 5 person instances, 1 crowd region," in text
    assert "done (val): 5 images" in text
    assert "prepare train: 100%" in text  # the progress bar: one line on stdout, not a stderr block
    assert "train: 5 images (3 with people, 2 without)" in text and "val: 5 images" in text
    assert "person instances: 5 (max 2 in one image), crowd regions: 1" in text
    assert png_count(nb) == 2  # overlays, statistics
    assert stderr_outputs(nb) == []
    for split in ("train", "val"):
        assert len(find_pairs(out, split)) == 5 and (out / f"manifest_{split}.csv").is_file()


@pytest.mark.slow
def test_with_download_yes_missing_coco_files_come_from_cocodataset_org(tmp_path, monkeypatch):
    """The path Colab takes (there DOWNLOAD="auto" means yes), against the fake server: photos
    that stay broken are reported and left out; the rest is prepared."""
    fake = FakeCoco()
    with Server(fake) as url:
        monkeypatch.setenv("PERSONSEG_COCO_ANNOTATIONS_URL", url + ARCHIVE_PATH)
        monkeypatch.setenv("PERSONSEG_COCO_IMAGES_URL", url)
        missing = tmp_path / "absent"
        parameters = {"TRAIN_ANNOTATIONS": missing / "a.json", "TRAIN_IMAGES": missing,
                      "VAL_ANNOTATIONS": missing / "b.json", "VAL_IMAGES": missing,
                      "OUT": "data/coco-sample", "DOWNLOAD": "yes", "DOWNLOAD_IMAGES": 7}
        nb = execute(NOTEBOOK, tmp_path, parameters, timeout=120)
    text = outputs_text(nb)
    assert "a.json not found: downloading a COCO person sample into data/coco-2017" in text
    assert (tmp_path / "data/coco-2017/annotations/instances_train2017.json").is_file()
    assert fake.requests["/train2017/000000000001.jpg"] == fake.requests["/val2017/000000000001.jpg"] == 1
    # train2017: the three good person photos (no dog); val2017: the first one (a quarter of 7)
    assert len(find_pairs(tmp_path / "data/coco-sample", "train")) == 3
    assert len(find_pairs(tmp_path / "data/coco-sample", "val")) == 1
    assert "done (train2017): 3 images (3 downloaded, 0 already there), 3 failed" in text
    assert png_count(nb) == 2 and stderr_outputs(nb) == []


def test_without_coco_files_it_explains_and_runs_to_the_end(tmp_path):
    missing = tmp_path / "absent"
    parameters = {"TRAIN_ANNOTATIONS": missing / "a.json", "TRAIN_IMAGES": missing,
                  "VAL_ANNOTATIONS": missing / "b.json", "VAL_IMAGES": missing}
    nb = execute(NOTEBOOK, tmp_path, parameters, timeout=120)
    text = outputs_text(nb)
    assert f"({missing / 'a.json'} not found)" in text and 'set DOWNLOAD = "yes"' in text
    assert png_count(nb) == 0 and stderr_outputs(nb) == []
    assert not (tmp_path / "data").exists()
