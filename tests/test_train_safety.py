"""Training survives crashes: kill -9 during and right after a checkpoint write, a full disk while
saving, damaged checkpoint files; resuming always ends where an uninterrupted `--deterministic`
run ends, with a log that matches. Bad input stops before anything is written."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from personseg.errors import UserError, WriteError
from personseg.training import TrainConfig, train
from tests.cli_run import assert_error
from tests.test_train import tiny_config

REPO = Path(__file__).resolve().parents[1]

# A child training process whose N-th `save_weights` call (a checkpoint commit) writes the file,
# optionally cuts it short (what kill -9 in the middle of the write leaves), then waits to be killed.
CHILD = """
import sys, time
from pathlib import Path
import keras
from personseg.training import TrainConfig, train
stop_at, truncate = int(sys.argv[2]), sys.argv[3] == "truncate"
real, calls = keras.Model.save_weights, []
def save_weights(self, filepath, *args, **kwargs):
    calls.append(filepath)
    real(self, filepath, *args, **kwargs)
    if len(calls) == stop_at:
        if truncate:
            data = Path(filepath).read_bytes()
            Path(filepath).write_bytes(data[: len(data) // 3])
        print("KILL ME", flush=True)
        time.sleep(600)
keras.Model.save_weights = save_weights
train(TrainConfig.load(sys.argv[1]), verbose=0)
"""


def weights(run: Path) -> list[np.ndarray]:
    return keras.models.load_model(run / "model.h5", compile=False).get_weights()


def log_epochs(run: Path) -> list[str]:
    return [line.split(",")[0] for line in (run / "log.csv").read_text().splitlines()[1:]]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run every crashed-and-resumed run must end identical to."""
    run = train(tiny_config(tmp_path_factory.mktemp("straight")), verbose=0)
    return {"weights": weights(run), "log": (run / "log.csv").read_text(),
            "summary": json.loads((run / "summary.json").read_text())}


def assert_same_as_straight(run: Path, straight: dict) -> None:
    for a, b in zip(weights(run), straight["weights"], strict=True):
        np.testing.assert_array_equal(a, b)  # bit-identical
    ours = (run / "log.csv").read_text().splitlines()
    theirs = straight["log"].splitlines()
    assert ours[0] == theirs[0] and log_epochs(run) == ["0", "1", "2"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs_run"] == 3 and summary["best_epoch"] == straight["summary"]["best_epoch"]
    assert summary["best_val"] == straight["summary"]["best_val"]
    assert not [p for p in run.rglob(".*") if ".tmp" in p.name]
    keras.models.load_model(run / "best.keras", compile=False)


def kill_during_commit(tmp_path, stop_at: int, truncate: bool) -> TrainConfig:
    config = tiny_config(tmp_path)
    config.save(tmp_path / "config.json")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [str(tmp_path / "config.json"), str(stop_at), "truncate" if truncate else "whole"]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "KILL ME"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return config


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_checkpoint_write_resumes_from_the_last_good_one(tmp_path, straight,
                                                                                   capsys):
    """Was: a 0-byte backup/latest.weights.h5, and `--resume` died with 'file signature not found'."""
    config = kill_during_commit(tmp_path, stop_at=2, truncate=True)
    run = Path(config.out)
    assert log_epochs(run) == ["0", "1"]  # the log got ahead of the last complete checkpoint
    train(TrainConfig.load(run / "config.json"), resume=True, verbose=0)
    err = capsys.readouterr().err
    assert f"{run / 'log.csv'}: rewritten to the 1 epoch(s) of the backup it resumes from" in err
    assert_same_as_straight(run, straight)


@pytest.mark.slow
def test_kill_9_right_after_a_checkpoint_write_keeps_the_log_consistent(tmp_path, straight):
    """Was: log.csv with epochs 0, 2 (the row of epoch 1 lost) and summary.json 'epochs_run: 3'."""
    config = kill_during_commit(tmp_path, stop_at=2, truncate=False)
    train(TrainConfig.load(Path(config.out) / "config.json"), resume=True, verbose=0)
    assert_same_as_straight(Path(config.out), straight)


def _interrupted(tmp_path, at: int = 2) -> TrainConfig:
    from tests.test_train import _Interrupt

    config = tiny_config(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        train(config, verbose=0, extra_callbacks=[_Interrupt(at=at)])
    return TrainConfig.load(Path(config.out) / "config.json")


@pytest.mark.slow
def test_a_damaged_newest_backup_falls_back_to_the_one_before_and_says_so(tmp_path, straight, capsys):
    config = _interrupted(tmp_path)
    run = Path(config.out)
    newest = run / "backup/epoch-0002.weights.h5"
    newest.write_bytes(newest.read_bytes()[:100])
    train(config, resume=True, verbose=0)
    err = capsys.readouterr().err
    assert f"warning: {newest}: unusable" in err
    assert f"{run}: fell back to the last good backup, after epoch 1" in err
    assert_same_as_straight(run, straight)


@pytest.mark.slow
def test_a_truncated_best_keras_is_restored_from_the_backup(tmp_path, straight):
    """Was: --resume crashed with no model.h5 (here: a run killed while writing model.h5)."""
    config = tiny_config(tmp_path)
    run = train(config, verbose=0)
    (run / "model.h5").unlink()
    (run / "summary.json").unlink()
    best = run / "best.keras"
    best.write_bytes(best.read_bytes()[:500])
    train(TrainConfig.load(run / "config.json"), resume=True, verbose=0)
    assert_same_as_straight(run, straight)


@pytest.mark.slow
def test_a_full_disk_while_saving_the_best_model_leaves_the_last_good_state(tmp_path, straight, monkeypatch):
    """Was: best.keras left truncated under its final name."""
    config = tiny_config(tmp_path)
    real, calls = keras.Model.save, []

    def save(self, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == 2:  # the best model of epoch 2
            Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", save)
    with pytest.raises(WriteError, match="best-0002.keras: cannot write: no space left on device"):
        train(config, verbose=0)
    monkeypatch.undo()
    run = Path(config.out)
    keras.models.load_model(run / "best.keras", compile=False)  # the epoch-1 best, whole
    assert not [p for p in run.rglob(".*") if ".tmp" in p.name]
    train(TrainConfig.load(run / "config.json"), resume=True, verbose=0)
    assert_same_as_straight(run, straight)


@pytest.mark.slow
def test_a_run_folder_of_the_previous_version_resumes(tmp_path, straight):
    """Keras BackupAndRestore's `backup/latest.weights.h5` + `training_metadata.json`."""
    config = _interrupted(tmp_path)
    backup = Path(config.out) / "backup"
    (backup / "epoch-0002.weights.h5").rename(backup / "latest.weights.h5")
    (backup / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    for path in backup.iterdir():
        if path.name.startswith(("epoch-", "best-")):
            path.unlink()
    train(config, resume=True, verbose=0)
    assert_same_as_straight(Path(config.out), straight)
    assert not (backup / "latest.weights.h5").exists()


@pytest.mark.slow
def test_early_stopping_survives_a_resume(tmp_path):
    """Patience counts from the logged best epoch, so an interrupted run stops where a straight one does."""
    a = train(tiny_config(tmp_path / "a", patience=1, epochs=6, lr=0.0), verbose=0)  # lr 0: never improves
    assert log_epochs(a) == ["0", "1"]
    config = tiny_config(tmp_path / "b", patience=1, epochs=6, lr=0.0)
    from tests.test_train import _Interrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, verbose=0, extra_callbacks=[_Interrupt(at=1)])
    b = train(TrainConfig.load(Path(config.out) / "config.json"), resume=True, verbose=0)
    assert log_epochs(b) == ["0", "1"]
    train(TrainConfig.load(Path(config.out) / "config.json"), resume=True, verbose=0)  # stopped: stays so
    assert log_epochs(b) == ["0", "1"]


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_truncated_photo_is_named_before_training_and_nothing_is_written(tmp_path, capsys, suffix):
    import cv2

    config = tiny_config(tmp_path)
    png = tmp_path / "data/images/train/img003.png"
    photo = png.with_suffix(suffix)
    cv2.imwrite(str(photo), cv2.imread(str(png)))
    if suffix != ".png":
        png.unlink()
    photo.write_bytes(photo.read_bytes()[:-200])  # header intact: sizes still read
    run = Path(config.out)
    assert_error(capsys, "train", "--data", *config.data, "--val", *config.val, "--out", run,
                 "--model", "shallow", "--size", "32",
                 message=f"{photo}: cannot be decoded, truncated or corrupt")
    assert not run.exists()


@pytest.mark.slow
def test_a_photo_that_fails_mid_training_is_named(tmp_path, monkeypatch):
    import personseg.data.pipeline

    monkeypatch.setattr(personseg.data.pipeline, "check_decodable", lambda pairs: None)
    config = tiny_config(tmp_path, epochs=1)
    photo = tmp_path / "data/images/train/img003.png"
    photo.write_bytes(photo.read_bytes()[:-200])
    with pytest.raises(UserError, match=f"{photo}: cannot be decoded.*continue with --resume"):
        train(config, verbose=0)


@pytest.mark.parametrize("flag,value,message", [
    ("--size", "0", "--size 0: must be a positive multiple of 32"),
    ("--batch-size", "0", "--batch-size 0: must be at least 1"),
    ("--epochs", "0", "--epochs 0: must be at least 1"),
    ("--steps-per-epoch", "0", "--steps-per-epoch 0: must be at least 1"),
    ("--lr", "-1", "--lr -1.0: must not be negative"),
    ("--patience", "-1", "--patience -1: must not be negative"),
    ("--warmup-epochs", "-1", "--warmup-epochs -1.0: must not be negative"),
])
def test_bad_numbers_are_refused_and_leave_no_run_folder(tmp_path, capsys, flag, value, message):
    """Was: a traceback (ZeroDivisionError for --batch-size 0) and a config.json left behind, so
    the corrected rerun was refused as 'run folder exists'."""
    data = tiny_config(tmp_path).data
    run = tmp_path / "run"
    args = ["train", "--data", *data, "--val", *data, "--out", run, "--model", "shallow", "--size", "32"]
    assert_error(capsys, *args, flag, value, message=message)
    assert not run.exists()


def test_a_read_only_run_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import personseg.disk

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(personseg.disk.tempfile, "mkstemp", read_only)
    config = tiny_config(tmp_path)
    assert_error(capsys, "train", "--data", *config.data, "--val", *config.val, "--out", tmp_path / "run",
                 "--model", "shallow", "--size", "32", message="cannot write: read-only file system")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_an_ema_run_killed_and_resumed_ends_like_an_uninterrupted_one(tmp_path):
    """With EMA the commit is made while the averaged weights are swapped in; resuming swaps back."""
    straight_run = train(tiny_config(tmp_path / "a", ema=0.9), verbose=0)
    config = tiny_config(tmp_path / "b", ema=0.9)
    config.save(tmp_path / "b" / "config.json")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "b" / "config.json"), "2", "whole"],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "KILL ME"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    resumed = train(TrainConfig.load(Path(config.out) / "config.json"), resume=True, verbose=0)
    for a, b in zip(weights(resumed), weights(straight_run), strict=True):
        np.testing.assert_array_equal(a, b)
    assert log_epochs(resumed) == ["0", "1", "2"]
    for name in ("best.keras",):
        ours = keras.models.load_model(resumed / name, compile=False).get_weights()
        theirs = keras.models.load_model(straight_run / name, compile=False).get_weights()
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
