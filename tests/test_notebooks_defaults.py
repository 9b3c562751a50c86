"""Both notebooks as a reader runs them: their real defaults, untouched, in a fresh checkout —
once with ../shared beside it (Dataset Preparation writes data/coco-sample, Model.ipynb trains and
evaluates on it), once without (both explain what to do and still run what needs no data).

The checkout is the two notebooks and weights.h5 in a temporary folder, with `../shared` a link
to the real one or absent; the package is the installed one, as for any reader."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from personseg.data.dataset_layout import find_pairs
from personseg.training.recipes import gpu_count
from tests.conftest import COCO_MINI, ENCODER_WEIGHTS, REPO, SHARED, require
from tests.notebooks import execute, outputs_text, png_count, stderr_outputs

NOTEBOOKS = ("Dataset Preparation.ipynb", "Model.ipynb")


def checkout(parent: Path, with_shared: bool, shared_data_only: bool = False) -> Path:
    folder = parent / "personseg"
    folder.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(REPO / name, folder / name)
    (folder / "weights.h5").symlink_to(REPO / "weights.h5")
    if shared_data_only:  # ../shared without weights/ (no ImageNet file beside the checkout)
        (parent / "shared").mkdir()
        (parent / "shared" / "data").symlink_to((SHARED / "data").resolve(), target_is_directory=True)
    elif with_shared:
        (parent / "shared").symlink_to(SHARED.resolve(), target_is_directory=True)
    return folder


def go_offline(monkeypatch, tmp_path: Path) -> None:
    """No internet for the kernel (every connection goes to a proxy that refuses it) and an empty
    Keras cache."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


@pytest.mark.slow
@pytest.mark.shared_data
def test_both_notebooks_run_with_their_defaults_beside_shared(tmp_path, monkeypatch):
    require(COCO_MINI)
    if gpu_count():
        pytest.skip("with a GPU the notebook picks the gpu recipe: a real, long training run")
    # the CPU recipe's ImageNet encoder comes from ../shared: offline, with an empty Keras cache
    require(ENCODER_WEIGHTS / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5")
    go_offline(monkeypatch, tmp_path)
    here = checkout(tmp_path, with_shared=True)
    data_nb = execute(here / NOTEBOOKS[0], here, {}, timeout=600)
    text = outputs_text(data_nb)
    assert "done (train): 281 images" in text and "done (val): 62 images" in text
    assert png_count(data_nb) == 2 and stderr_outputs(data_nb) == []
    assert len(find_pairs(here / "data/coco-sample", "train")) == 281

    model_nb = execute(here / NOTEBOOKS[1], here, {}, timeout=900)
    text = outputs_text(model_nb)
    assert "recipe 'cpu'" in text and "shipped model: weights.h5" in text
    assert "data/coco-sample:train: 281 image/mask pairs" in text  # what the data notebook wrote
    assert "Epoch 4/4" in text and "trained in " in text
    trained, shipped = map(float, re.findall(r"IoU \(pooled\)\s+([\d.]+)", text))  # both on 48 images
    assert trained > 0.1, "a minute of the CPU recipe learns rough people"
    assert shipped > 0.6
    assert png_count(model_nb) == 4 and stderr_outputs(model_nb) == []
    runs = list((here / "runs").glob("notebook-*/model.h5"))
    assert len(runs) == 1


@pytest.mark.slow
def test_both_notebooks_run_with_their_defaults_without_shared(tmp_path):
    here = checkout(tmp_path, with_shared=False)
    data_nb = execute(here / NOTEBOOKS[0], here, {}, timeout=300)
    text = outputs_text(data_nb)
    assert "../shared/data/coco-person-mini/annotations/instances_minitrain.json not found" in text
    assert 'set DOWNLOAD = "yes"' in text and "personseg download coco" in text
    assert stderr_outputs(data_nb) == [] and not (here / "data").exists()

    model_nb = execute(here / NOTEBOOKS[1], here, {}, timeout=300)
    text = outputs_text(model_nb)
    assert "shipped model: weights.h5" in text and "of pixels are person" in text  # quick inference
    assert "pretrained:unet (the most accurate shipped model" in text  # the architectures
    assert "No COCO files to prepare data/coco-sample" in text
    assert png_count(model_nb) == 1 and stderr_outputs(model_nb) == []
    assert not (here / "runs").exists()


@pytest.mark.slow
@pytest.mark.shared_data
def test_model_notebook_offline_without_the_imagenet_file_says_what_to_do(tmp_path, monkeypatch):
    """Was: the training cell died with a 100-line ANSI traceback from Keras' download."""
    require(COCO_MINI)
    if gpu_count():
        pytest.skip("with a GPU the notebook picks the gpu recipe: a real, long training run")
    go_offline(monkeypatch, tmp_path)
    here = checkout(tmp_path, with_shared=True, shared_data_only=True)
    # every code cell but the architectures and the shipped model's grid (tested above; slow)
    skipped = ("describe(", "(shipped, samples)")
    code = [i for i, cell in enumerate(nbformat.read(here / NOTEBOOKS[1], as_version=4).cells)
            if cell.cell_type == "code" and not any(text in cell.source for text in skipped)]
    model_nb = execute(here / NOTEBOOKS[1], here, {"EVAL_LIMIT": 8}, cells=code, timeout=900)
    text = outputs_text(model_nb)
    train_cell = next(cell for cell in model_nb.cells if "encoder_weights_ready(config)" in cell.source)
    (paragraph,) = [out["text"] for out in train_cell.outputs]
    assert paragraph.startswith("Training needs Keras' ImageNet MobileNetV2 file ")
    assert paragraph.count("\n") == 1  # one paragraph
    assert "Traceback" not in text and "Epoch" not in text and stderr_outputs(model_nb) == []
    assert "shipped model:" in text and "trained model (" not in text  # the rest runs without it
    assert png_count(model_nb) == 1 and not (here / "runs").exists()  # quick inference; no curves, no grid
