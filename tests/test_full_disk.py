"""A disk that fills while `train` checkpoints or `export` writes: one `error:` line and exit 2
(never h5py's segfault, its "Exception ignored" flood, or a protobuf / TensorFlow traceback), the
last good state kept, and a resume after freeing space completes. The space a checkpoint needs
is checked before h5py writes it (`disk.check_space`); an error a library raises without its
errno on a full disk is still said as one (`disk.write_error`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import keras
import pytest

import personseg.disk
from personseg.training import TrainConfig, train
from tests.cli_run import run_cli
from tests.fakes import save_tiny_model
from tests.test_train import tiny_config

REPO = Path(__file__).resolve().parents[1]
Usage = namedtuple("Usage", "total used free")
ROOT = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"),
                          reason="needs root to mount a tmpfs")


def _fill_after(monkeypatch, folder: Path, calls: int) -> None:
    """The disk under `folder` reports no free space from the `calls`-th look on."""
    real, seen = shutil.disk_usage, []

    def usage(path):
        if Path(path).resolve().is_relative_to(folder.resolve()):
            seen.append(path)
            if len(seen) >= calls:
                return Usage(10 << 30, 10 << 30, 0)
        return real(path)

    monkeypatch.setattr(personseg.disk.shutil, "disk_usage", usage)


def test_a_checkpoint_that_would_not_fit_is_one_error_line_and_resume_completes(tmp_path, capsys,
                                                                                 monkeypatch):
    config = tiny_config(tmp_path, epochs=2)
    config.save(tmp_path / "config.json")
    run = Path(config.out)
    _fill_after(monkeypatch, run, calls=2)  # epoch 1 commits; epoch 2's checkpoint finds no room
    args = ["train", "--data", *config.data, "--val", *config.val, "--out", run, "--model", "shallow",
            "--shallow-filters", "4,8", "--size", "32", "--batch-size", "4", "--epochs", "2",
            "--steps-per-epoch", "2", "--warmup-epochs", "0"]
    code, _, err = run_cli(capsys, *args)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2 and len(errors) == 1 and "no space left on device (disk full)" in errors[0], err
    assert "needs about" in errors[0]
    monkeypatch.undo()
    assert not [p for p in run.rglob(".*") if ".tmp" in p.name]
    train(TrainConfig.load(run / "config.json"), resume=True, verbose=0)
    keras.models.load_model(run / "model.h5", compile=False)


def test_a_library_error_without_an_errno_on_a_full_disk_is_said_as_one(tmp_path, monkeypatch):
    _fill_after(monkeypatch, tmp_path, calls=1)
    error = personseg.disk.write_error(tmp_path / "m.onnx", ValueError("InvalidProtobuf: truncated"))
    assert str(error) == f"{tmp_path / 'm.onnx'}: cannot write: no space left on device (disk full)"
    monkeypatch.undo()
    assert personseg.disk.write_error(tmp_path / "m.onnx", ValueError("a real bug")) is None


def _on_tmpfs(tmp_path: Path, size: str, argv: list[str]) -> subprocess.CompletedProcess:
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        return subprocess.run([sys.executable, "-m", "personseg", *map(str, argv)], capture_output=True,
                              text=True, env=env, timeout=600)
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert "Traceback" not in err and "Exception ignored" not in err, err[-2000:]
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "no space left on device (disk full)" in errors[0], err[-2000:]
    return errors[0]


@ROOT
@pytest.mark.parametrize("size", ["150k", "380k"])
def test_train_on_a_real_full_disk(tmp_path, size):
    config = tiny_config(tmp_path, epochs=3)
    _one_error_line(_on_tmpfs(tmp_path, size, [
        "train", "--data", *config.data, "--val", *config.val, "--out", tmp_path / "disk/run",
        "--model", "shallow", "--shallow-filters", "4,8", "--size", "32", "--batch-size", "4",
        "--epochs", "3", "--steps-per-epoch", "2", "--warmup-epochs", "0"]))


@ROOT
@pytest.mark.parametrize("fmt", ["onnx", "savedmodel"])
def test_export_on_a_real_full_disk(tmp_path, fmt):
    model = save_tiny_model(tmp_path / "tiny.h5")
    suffix = ".onnx" if fmt == "onnx" else "_savedmodel"
    _one_error_line(_on_tmpfs(tmp_path, "48k", ["export", "--weights", model, "--format", fmt,
                                                 "--out", tmp_path / f"disk/tiny{suffix}"]))
