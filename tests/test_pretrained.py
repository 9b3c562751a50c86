"""Packaged models: the same files as the repository's, ONNX twins within parity of Keras, usable
from any folder without TensorFlow (from a wheel in a venv without TensorFlow:
tests/test_wheel_install.py)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from personseg.errors import OptionError, UserError
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter
from personseg.pretrained import MODELS, SUFFIX, model_file

REPO = Path(__file__).resolve().parents[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_packaged_keras_file_is_the_repository_file(name):
    """In a checkout, the package's .h5 is a link to the repository's file: one file to replace."""
    packaged = model_file(name, "keras")
    assert packaged.is_symlink() and packaged.resolve() == (REPO / MODELS[name].repo_file).resolve()


def test_git_stores_each_weights_file_once():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-s"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    blobs: dict[str, list[str]] = {}
    for line in listed:
        mode, blob, _, path = line.split(maxsplit=3)
        if mode != "120000" and path.endswith((".h5", ".keras", ".onnx", ".tflite")):
            blobs.setdefault(blob, []).append(path)
    assert not [paths for paths in blobs.values() if len(paths) > 1]


@pytest.mark.slow
def test_the_wheel_carries_each_packaged_file_whole(tmp_path):
    """The links become the files themselves in the wheel, with the ONNX twins and build options."""
    import zipfile

    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("personseg-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name, model in MODELS.items():
            for fmt, suffix in SUFFIX.items():
                member = archive.read(f"personseg/pretrained/{name}{suffix}")
                packaged = REPO / model.repo_file if fmt == "keras" else model_file(name, fmt)
                assert hashlib.sha256(member).hexdigest() == sha256(packaged), (name, fmt)


@pytest.mark.parametrize("framing", ["square", "fit"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_twin_segments_like_the_keras_model(name, framing):
    photos = list(sample_images().values())
    keras_probs = Segmenter.pretrained(name, backend="keras", framing=framing).predict_batch(photos)
    onnx_probs = Segmenter.pretrained(name, backend="onnx", framing=framing).predict_batch(photos)
    for k, o in zip(keras_probs, onnx_probs, strict=True):
        assert np.abs(k - o).max() <= 1e-3  # the export's float tolerance
        assert np.mean((k >= 0.5) == (o >= 0.5)) >= 0.999


# what each packaged file records (weights/README.md, fifteenth round): `auto` runs it
RECORDED_FRAMING = {"unet": "square", "fast": "fit", "shallow": "square"}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_packaged_file_and_its_twin_record_the_same_framing(name):
    """`scripts/ship_model.py --framing` writes it into the .h5 and the ONNX twin; a re-ship
    without it would silently change how the model runs by default."""
    framings = {runtime: Segmenter.pretrained(name, backend=runtime).framing for runtime in ("keras", "onnx")}
    assert framings == {"keras": RECORDED_FRAMING[name], "onnx": RECORDED_FRAMING[name]}


def test_unknown_name_lists_the_packaged_models():
    with pytest.raises(UserError, match="pretrained:nope: .*choose from pretrained:unet, pretrained:fast"):
        model_file("nope")
    with pytest.raises(OptionError, match=r"no packaged model of that name; give a model file, pretrained:"):
        Segmenter.pretrained("nope")


@pytest.mark.parametrize("command", ["predict", "train"])
def test_an_unknown_packaged_name_is_worded_as_typed(tmp_path, capsys, command):
    """Was: `error: --pretrained nope: ...`, a flag that does not exist."""
    from tests.cli_run import assert_error
    from tests.synthetic import make_root

    if command == "predict":
        argv = ["predict", tmp_path / "photo.jpg", "--out", tmp_path / "out", "--weights"]
    else:
        root = make_root(tmp_path / "data", n=2, split=None)
        argv = ["train", "--data", root, "--val", root, "--out", tmp_path / "run", "--model", "shallow",
                "--size", "64", "--init"]
    line = assert_error(capsys, *argv, "pretrained:nope",
                        message="pretrained:nope: no packaged model of that name")
    assert "--pretrained" not in line and not (tmp_path / "run").exists()


PROBE = """
import sys
import matplotlib.cbook
from personseg import Segmenter
seg = Segmenter.pretrained()
prob = seg.predict(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
import personseg
print(personseg.__file__)
print(type(seg.backend).__name__, prob.shape, float(prob[100:200, 230:330].mean()))
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


def run_probe(cwd: Path, env_path: str | None = None, python: str | Path = sys.executable) -> list[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    if env_path:
        env["PYTHONPATH"] = env_path
    done = subprocess.run([str(python), "-c", PROBE], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def check_probe(lines: list[str]) -> None:
    backend, face = lines[1].split()[0], float(lines[1].split()[-1])
    assert backend == "OnnxBackend" and "(600, 512)" in lines[1]
    assert face > 0.8  # Grace Hopper's face is person
    assert lines[2] == "False False"  # ONNX inference never imports TensorFlow or Keras


def test_pretrained_from_another_folder_uses_onnx_without_tensorflow(tmp_path):
    check_probe(run_probe(tmp_path))


def test_cli_default_weights_work_from_another_folder(tmp_path):
    photo = sample_images()["grace_hopper"]
    from personseg.files import write_image

    write_image(tmp_path / "photo.jpg", photo)
    done = subprocess.run([sys.executable, "-m", "personseg", "predict", "photo.jpg", "--out", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "photo_mask.png").is_file()
