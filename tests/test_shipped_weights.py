"""The shipped weights: plain Keras files that find the person in a photo with TensorFlow alone,
and whose minival figures in the README are what `personseg evaluate` measures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from personseg.pretrained import MODELS
from tests.conftest import REPO

# shipped file -> the name its recipe files carry in weights/ (unet.config.json, unet.minival.json, ...)
SHIPPED = {model.repo_file: model.name for model in MODELS.values()}
PHOTO = REPO / "assets" / "grace_hopper.jpg"

# What a user without personseg writes: load, resize the photo to the model's input, predict.
PLAIN_KERAS = """
import json, sys
import keras, numpy as np
from PIL import Image
model = keras.models.load_model(sys.argv[1], compile=False)
size = model.input_shape[1]
photo = Image.open(sys.argv[2]).convert("RGB").resize((size, size), Image.BILINEAR)
probs = model.predict(np.asarray(photo, "float32")[None], verbose=0)[0, ..., 0]
np.save(sys.argv[3], probs)
print(json.dumps({"personseg_imported": any(m.startswith("personseg") for m in sys.modules)}))
"""


def shipped(name: str) -> Path:
    path = REPO / name
    if not path.exists():
        pytest.skip(f"{path} is absent (trained weights not in this checkout)")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SHIPPED))
def test_loads_without_personseg_and_finds_the_person(name, tmp_path):
    path = shipped(name)
    out = tmp_path / "probs.npy"
    done = subprocess.run([sys.executable, "-c", PLAIN_KERAS, str(path), str(PHOTO), str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"personseg_imported": False}
    probs = np.load(out)
    assert probs.dtype == np.float32 and probs.min() >= 0 and probs.max() <= 1
    mask = probs > 0.5
    h, w = mask.shape
    # grace_hopper.jpg: a head-and-shoulders portrait, face in the upper middle, flag and sky
    # behind her in the top corners.
    face = mask[int(0.25 * h):int(0.45 * h), int(0.4 * w):int(0.6 * w)]
    top_right = mask[: int(0.15 * h), int(0.85 * w):]
    assert face.mean() > 0.9, f"face region only {face.mean():.0%} person"
    assert top_right.mean() < 0.1, f"sky in the top-right corner {top_right.mean():.0%} person"
    assert 0.2 < mask.mean() < 0.9, f"{mask.mean():.0%} of the photo is person"


@pytest.mark.shared_data
@pytest.mark.slow
@pytest.mark.parametrize("name", list(SHIPPED))
def test_readme_minival_figures_are_what_evaluate_measures(name, coco_mini, capsys):
    """weights/<recipe>.minival.json holds the figures the README quotes; evaluate must give them."""
    from personseg.cli import main

    path = shipped(name)
    recorded = json.loads((REPO / "weights" / f"{SHIPPED[name]}.minival.json").read_text())
    capsys.readouterr()
    rc = main(["evaluate", "--weights", str(path),
               "--annotations", str(coco_mini / "annotations" / "instances_minival.json"),
               "--images", str(coco_mini / "images"), "--json"])
    assert rc == 0
    measured = json.loads(capsys.readouterr().out)
    for key in ("images", "iou", "dice", "accuracy", "precision", "recall", "mean_image_iou",
                "empty_fp_rate"):
        assert measured[key] == pytest.approx(recorded[key], abs=5e-4), key


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_files_hold_no_optimizer_state(name):
    """Inference files: the network and its weights only (optimizer state would triple the size)."""
    import h5py

    with h5py.File(shipped(name)) as f:
        assert "model_weights" in f and "optimizer_weights" not in f, list(f)
