"""Every option that takes a number or a path, across commands: a bad value or an output that
cannot be written is one `error: ...` line and exit 2, found before any work (no traceback,
nothing half-written)."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from personseg.files import write_image
from personseg.inference.segmenter import Segmenter
from tests.cli_run import assert_error, run_cli
from tests.fakes import ChannelBackend, save_tiny_model
from tests.synthetic import make_root


@pytest.fixture
def fake_backend(monkeypatch):
    backend = ChannelBackend(64)
    monkeypatch.setattr(Segmenter, "open", classmethod(lambda cls, *a, **k: cls(backend)))
    return backend


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny.h5")


@pytest.fixture
def places(tmp_path):
    """Output paths that cannot be written: under a file, and a folder where a file should go."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir()
    return {"under a file": (tmp_path / "a_file" / "out.csv", "is a file, not a folder"),
            "a folder": (tmp_path / "a_folder", "is a folder; expected a file name")}


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_evaluate_checks_its_csv_before_scoring(tmp_path, capsys, fake_backend, places, where):
    """Was: a traceback after all the work."""
    root = make_root(tmp_path / "data", n=2, split="val")
    path, message = places[where]
    assert_error(capsys, "evaluate", "--data", root, "--csv", path, message=message)
    assert not fake_backend.batch_sizes  # the model never ran


@pytest.mark.parametrize("command", ["evaluate", "grid"])
def test_batch_size_zero_is_an_option_error(tmp_path, capsys, fake_backend, command):
    root = make_root(tmp_path / "data", n=2, split="val")
    extra = ["--out", tmp_path / "g.png"] if command == "grid" else []
    assert_error(capsys, command, "--data", root, "--batch-size", "0", *extra,
                 message="--batch-size 0: must be at least 1")


def test_grid_checks_threshold_and_output_before_running(tmp_path, capsys, fake_backend, places):
    root = make_root(tmp_path / "data", n=2, split="val")
    assert_error(capsys, "grid", "--data", root, "--threshold", "1.5",
                 message="--threshold 1.5: must be between 0 and 1")
    path, message = places["under a file"]
    assert_error(capsys, "grid", "--data", root, "--out", path.with_suffix(".png"), message=message)
    assert_error(capsys, "grid", "--data", root, "--n", "0", message="--n 0: must be at least 1")
    assert not fake_backend.batch_sizes


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_export_checks_its_output_before_converting(tmp_path, capsys, tiny_model, places, where):
    path, message = places[where]
    assert_error(capsys, "export", "--weights", tiny_model, "--format", "onnx", "--out", path,
                 message=message)


def test_export_savedmodel_out_that_is_a_file(tmp_path, capsys, tiny_model):
    (tmp_path / "model_saved").write_text("x")
    assert_error(capsys, "export", "--weights", tiny_model, "--format", "savedmodel",
                 "--out", tmp_path / "model_saved", message="exists and is a file; a SavedModel is a folder")
    assert_error(capsys, "export", "--weights", tiny_model, "--format", "onnx", "--calibration-count", "0",
                 message="--calibration-count 0: must be at least 1")


def test_export_on_a_read_only_disk(tmp_path, capsys, tiny_model, monkeypatch):
    import personseg.disk

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(personseg.disk.tempfile, "mkstemp", read_only)
    assert_error(capsys, "export", "--weights", tiny_model, "--format", "tflite",
                 "--out", tmp_path / "m.tflite", message="cannot write: read-only file system")


@pytest.mark.parametrize("args,message", [
    (["--runs", "0"], "--runs 0: must be at least 1"),
    (["--batch", "0"], "--batch 0: must be at least 1"),
    (["--threads", "0"], "--threads 0: must be at least 1"),
    (["--sizes", "100"], "--sizes 100: must be a positive multiple of 32"),
    (["--out", "FILE/bench.json"], "is a file, not a folder"),
    (["--markdown", "FILE/bench.md"], "is a file, not a folder"),
])
def test_bench_checks_numbers_and_outputs_before_measuring(tmp_path, capsys, tiny_model, args, message):
    (tmp_path / "FILE").write_text("x")
    args = [str(tmp_path / a) if a.startswith("FILE/") else a for a in args]
    assert_error(capsys, "bench", "--quick", "--weights", f"tiny={tiny_model}", "--backends", "keras",
                 "--e2e-images", "0", "--peers", "none", *args, message=message)


def test_curves_output_that_cannot_be_written(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n")
    (tmp_path / "a_file").write_text("x")
    assert_error(capsys, "curves", run, "--out", tmp_path / "a_file" / "c.png", message="cannot write")


def test_an_unforeseen_os_error_is_one_line_not_a_traceback(tmp_path, capsys, fake_backend, monkeypatch):
    import personseg.inference.predict

    def boom(*args, **kwargs):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(tmp_path / "weird"))

    monkeypatch.setattr(personseg.inference.predict, "collect_inputs", boom)
    write_image(tmp_path / "p.png", np.zeros((8, 8, 3), np.uint8))
    code, _, err = run_cli(capsys, "predict", tmp_path / "p.png", "--out", tmp_path / "out")
    assert code == 2 and err.strip().splitlines()[-1] == f"error: {tmp_path / 'weird'}: Is a directory"


def test_evaluate_refuses_a_truncated_photo(tmp_path, capsys, fake_backend):
    import cv2

    root = make_root(tmp_path / "data", n=2, split="val")
    photo = root / "images/val/img000.jpg"
    cv2.imwrite(str(photo), cv2.imread(str(root / "images/val/img000.png")))
    (root / "images/val/img000.png").unlink()
    photo.write_bytes(photo.read_bytes()[:-300])
    assert_error(capsys, "evaluate", "--data", root, message=f"{photo}: not a readable image")


@pytest.mark.parametrize("text,message", [
    ('{"data": ["d"], "val": ["v"], "out": "r", "size": "big"}',
     "config.json: size='big': must be a positive multiple of 32"),
    ('{"data": ["d"], "val": ["v"], "out": "r", "batch_size": 0}',
     "config.json: batch_size=0: must be at least 1"),
    ('{"out": "r"}', "config.json: not a valid run config"),
    ("[1, 2]", "config.json: not a run config"),
    ('{"data": ', "config.json: cannot read run config"),
])
def test_resume_with_a_damaged_config_json(tmp_path, capsys, text, message):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(text)
    assert_error(capsys, "train", "--out", tmp_path / "run", "--resume", message=message)


def test_a_full_disk_when_evaluate_writes_its_csv(tmp_path, capsys, fake_backend, monkeypatch):
    from pathlib import Path

    root = make_root(tmp_path / "data", n=2, split="val")
    real = Path.write_text

    def write_text(self, text, *args, **kwargs):
        if self.name.endswith(".tmp.csv"):
            real(self, text[:5])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    csv = tmp_path / "per_image.csv"
    assert_error(capsys, "evaluate", "--data", root, "--csv", csv,
                 message=f"{csv}: cannot write: no space left on device (disk full)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
