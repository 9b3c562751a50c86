"""Hostile conditions for `personseg predict`: videos that cannot be written completely, a full
or read-only disk, temporary files of a killed run, models of the wrong shape."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import cv2
import numpy as np
import pytest

import personseg.inference.video
from personseg.files import write_image
from personseg.inference.segmenter import Segmenter
from tests.cli_run import assert_error, run_cli
from tests.fakes import ChannelBackend
from tests.test_predict import video_info, write_video


@pytest.fixture
def fake_backend(monkeypatch):
    backend = ChannelBackend(64)
    monkeypatch.setattr(Segmenter, "open", classmethod(lambda cls, *a, **k: cls(backend)))
    return backend


def truncating_writer(monkeypatch, kinds_to_break=("overlay",)):
    """VideoOutput whose files lose their tail when closed, as on a full disk (no moov atom)."""
    real_close = personseg.inference.video.VideoOutput.close

    def close(self):
        real_close(self)
        path = Path(self.path)
        broken = any(f".clip_{kind}." in path.name for kind in kinds_to_break)
        if broken and path.exists():
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])

    monkeypatch.setattr(personseg.inference.video.VideoOutput, "close", close)


def test_a_video_that_does_not_play_back_is_listed_and_removed(tmp_path, fake_backend, capsys, monkeypatch):
    video = tmp_path / "clip.mp4"
    write_video(video, frames=6, size=(64, 32), fps=10)
    write_image(tmp_path / "ok.png", np.zeros((16, 16, 3), np.uint8))
    truncating_writer(monkeypatch)
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "predict", video, tmp_path / "ok.png", "--out", out,
                                "--save", "mask,overlay", "--save-frames")
    counted = stdout.split(" -> ")[0]  # the summary's counts, before the output folder
    assert code == 1 and "1 image in" in counted and "video" not in counted  # not counted as done
    assert "clip_overlay.mp4: the written video does not play back (0 of 6 frames readable)" in err
    assert sorted(p.name for p in out.iterdir()) == ["ok_mask.png", "ok_overlay.jpg"]  # no MP4s, no frames


def test_a_full_disk_while_writing_a_video_stops_with_one_error_line(tmp_path, fake_backend, capsys,
                                                                     monkeypatch):
    video = tmp_path / "clip.mp4"
    write_video(video, frames=6, size=(64, 32), fps=10)
    truncating_writer(monkeypatch, kinds_to_break=("mask",))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(personseg.inference.video.shutil, "disk_usage", lambda path: usage(1, 1, 0))
    out = tmp_path / "out"
    assert_error(capsys, "predict", video, "--out", out, "--save", "mask",
                 message=f"{out / 'clip_mask.mp4'}: cannot write: no space left on device (disk full)")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("err,problem", [(errno.ENOSPC, "no space left on device (disk full)"),
                                         (errno.EROFS, "read-only file system")])
def test_a_full_disk_on_photos_is_said_plainly_and_stops(tmp_path, fake_backend, capsys, monkeypatch,
                                                         err, problem):
    """Was: 'cannot write outputs (1476762 requested and 1007616 written)', and on to the next photo."""
    for i in range(3):
        write_image(tmp_path / f"in/p{i}.png", np.zeros((16, 16, 3), np.uint8))
    real, written = Path.write_bytes, []

    def write_bytes(self, data):
        if len(written) >= 2:
            real(self, data[:10])
            raise OSError(err, os.strerror(err))
        written.append(self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    out = tmp_path / "out"
    line = assert_error(capsys, "predict", tmp_path / "in", "--out", out, "--save", "mask",
                        message=f"cannot write: {problem}")
    assert "requested and" not in line
    assert sorted(p.name for p in out.iterdir()) == ["p0_mask.png", "p1_mask.png"]  # complete files only


def test_an_unwritable_out_is_refused_before_the_model_runs(tmp_path, fake_backend, capsys):
    write_image(tmp_path / "p.png", np.zeros((16, 16, 3), np.uint8))
    (tmp_path / "file").write_text("x")
    assert_error(capsys, "predict", tmp_path / "p.png", "--out", tmp_path / "file" / "out",
                 message="is a file, not a folder")
    assert not fake_backend.batch_sizes


def test_leftovers_of_a_killed_video_run_are_removed_by_the_next_run(tmp_path, fake_backend, capsys):
    """kill -9 during a video leaves `.clip_mask.<pid>.<random>.tmp.mp4`; the next run removes it."""
    video = tmp_path / "clip.mp4"
    write_video(video, frames=4, size=(64, 32), fps=10)
    out = tmp_path / "out"
    out.mkdir()
    code = (
        "import sys, time\n"
        "from personseg.files import atomic_path\n"
        f"with atomic_path({str(out / 'clip_mask.mp4')!r}) as tmp:\n"
        "    tmp.write_bytes(b'half a video')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline().strip() == "writing"
    (leftover,) = [p for p in out.iterdir() if p.name.startswith(".clip_mask.")]
    # while the writer lives, another run leaves its file alone
    assert run_cli(capsys, "predict", video, "--out", out, "--save", "overlay")[0] == 0
    assert leftover.exists()
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert leftover.exists()  # kill -9: nothing cleaned up
    code, _, err = run_cli(capsys, "predict", video, "--out", out, "--save", "mask")
    assert code == 0 and f"{leftover}: removed, a temporary file of a killed run" in err
    assert sorted(p.name for p in out.iterdir()) == ["clip_mask.mp4", "clip_overlay.mp4"]
    assert video_info(out / "clip_mask.mp4")[0] == 4


def test_old_style_leftovers_are_removed_once_an_hour_old(tmp_path, fake_backend, capsys):
    write_image(tmp_path / "p.png", np.zeros((16, 16, 3), np.uint8))
    out = tmp_path / "out"
    out.mkdir()
    fresh, old = out / ".p_mask.abcd1234.tmp.png", out / ".q_mask.abcd1234.tmp.png"
    fresh.write_bytes(b"x")
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 7200,) * 2)
    assert run_cli(capsys, "predict", tmp_path / "p.png", "--out", out, "--save", "mask")[0] == 0
    assert fresh.exists() and not old.exists()
    shutil.rmtree(out)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a tmpfs")
def test_a_real_full_disk_while_writing_a_video(tmp_path, fake_backend, capsys):
    """On a real 64 KiB tmpfs: was exit 0, '1 videos (20 frames)', MP4s that do not open."""
    video = tmp_path / "noise.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(20):
        writer.write(rng.integers(0, 256, (120, 160, 3), np.uint8))
    writer.release()
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        assert_error(capsys, "predict", video, "--out", disk, "--save", "overlay",
                     message="noise_overlay.mp4: cannot write: no space left on device (disk full)")
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _save(path: Path, inputs_shape, build) -> Path:
    import keras

    inputs = keras.Input(inputs_shape)
    keras.Model(inputs, build(inputs)).save(path)
    return path


@pytest.fixture(scope="module")
def odd_models(tmp_path_factory):
    """Model files that are not person segmenters, and files that are not models."""
    import keras

    folder = tmp_path_factory.mktemp("odd")
    layers = keras.layers
    random_bytes = folder / "random.keras"
    random_bytes.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    (folder / "empty.h5").write_bytes(b"")
    good = _save(folder / "good.h5", (64, 64, 3), lambda x: layers.Conv2D(1, 1, activation="sigmoid")(x))
    (folder / "truncated.h5").write_bytes(good.read_bytes()[:3000])
    return {
        "half-size output": (_save(folder / "half.h5", (64, 64, 3),
                                   lambda x: layers.Conv2D(1, 3, strides=2, padding="same")(x)),
                             "model output is (None, 32, 32, 1); expected one person probability per "
                             "input pixel, (batch, 64, 64, 1)"),
        "vector output": (_save(folder / "vector.h5", (64, 64, 3),
                                lambda x: layers.Dense(2)(layers.GlobalAveragePooling2D()(x))),
                          "model output is (None, 2); expected one person probability per input pixel"),
        "gray input": (_save(folder / "gray.h5", (64, 64, 1), lambda x: layers.Conv2D(1, 1)(x)),
                       "model input is (None, 64, 64, 1); expected RGB images (batch, H, W, 3)"),
        "random bytes": (random_bytes, "random.keras: not a Keras model file (expected a zip archive"),
        "empty file": (folder / "empty.h5", "empty.h5: is empty (0 bytes): not a model file"),
        "truncated": (folder / "truncated.h5",
                      "truncated.h5: cannot load as a Keras model, damaged or truncated?"),
    }


@pytest.mark.parametrize("case", ["half-size output", "vector output", "gray input", "random bytes",
                                  "empty file", "truncated"])
def test_a_model_file_that_is_not_a_person_segmenter_is_named_with_what_was_expected(tmp_path, capsys,
                                                                                      odd_models, case):
    """Was: tracebacks, and 'File not found' for a .keras file that exists."""
    path, message = odd_models[case]
    write_image(tmp_path / "p.png", np.zeros((16, 16, 3), np.uint8))
    line = assert_error(capsys, "predict", tmp_path / "p.png", "--weights", path, "--out", tmp_path / "out",
                        message=message)
    assert "not found" not in line
    assert not (tmp_path / "out").exists()


def test_a_truncated_photo_is_reported_and_the_rest_segmented(tmp_path, fake_backend, capsys):
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / "cut.jpg"), rng.integers(0, 255, (40, 60, 3), np.uint8))
    data = (tmp_path / "cut.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    write_image(tmp_path / "ok.png", np.zeros((16, 16, 3), np.uint8))
    code, _, err = run_cli(capsys, "predict", tmp_path / "cut.jpg", tmp_path / "ok.png",
                           "--out", tmp_path / "out", "--save", "mask")
    assert code == 1 and f"{tmp_path / 'cut.jpg'}: not a readable image (corrupt" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ok_mask.png"]


def test_ctrl_c_in_the_middle_of_a_video_leaves_nothing_of_it(tmp_path, fake_backend, capsys, monkeypatch):
    import personseg.inference.video as video_module

    video = tmp_path / "clip.mp4"
    write_video(video, frames=6, size=(64, 32), fps=10)
    write_image(tmp_path / "ok.png", np.zeros((16, 16, 3), np.uint8))
    real, calls = video_module.render_all, []

    def render_all(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:  # the third frame
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(video_module, "render_all", render_all)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "predict", tmp_path / "ok.png", video, "--out", out, "--save", "mask",
                           "--save-frames")
    assert code == 130 and "interrupted" in err
    assert sorted(p.name for p in out.iterdir()) == ["ok_mask.png"]  # the photo done before stays
