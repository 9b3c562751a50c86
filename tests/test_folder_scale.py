"""`personseg predict` on big folders: resume (existing outputs skipped unless --overwrite),
bounded memory between decoding, the model and writing, decoding in worker threads, and a
progress bar in images/s; real photos through the packaged model."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import personseg.inference.stills as stills
from personseg.cli import main
from personseg.files import read_mask, write_image
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter
from tests.fakes import ChannelBackend


@pytest.fixture
def fake_backend(monkeypatch):
    backend = ChannelBackend(64)
    monkeypatch.setattr(Segmenter, "open", classmethod(lambda cls, *a, **k: cls(backend)))
    return backend


def make_folder(folder, count: int, size=(24, 32)) -> None:
    rng = np.random.default_rng(0)
    for i in range(count):
        write_image(folder / f"p{i:04d}.png", rng.integers(0, 256, (*size, 3), dtype=np.uint8))


def test_a_rerun_resumes_and_overwrite_redoes(tmp_path, fake_backend, capsys):
    make_folder(tmp_path / "in", 6)
    out = tmp_path / "out"
    args = ["predict", str(tmp_path / "in"), "--out", str(out), "--save", "mask"]
    assert main(args) == 0
    assert "6 images in" in capsys.readouterr().out
    (out / "p0001_mask.png").unlink()  # as if the first run had stopped before these
    (out / "p0004_mask.png").unlink()
    kept = (out / "p0002_mask.png").read_bytes()
    (out / "p0002_mask.png").write_bytes(b"marker")
    assert main(args) == 0
    summary = capsys.readouterr().out
    assert "2 images in" in summary and "4 skipped (outputs exist; --overwrite redoes them)" in summary
    assert (out / "p0002_mask.png").read_bytes() == b"marker"  # not touched
    assert read_mask(out / "p0004_mask.png").shape == (24, 32)
    # a new kind: only the missing files are written, the masks are left as they are
    assert main([*args[:-1], "mask,overlay"]) == 0
    assert "6 images in" in capsys.readouterr().out
    assert (out / "p0002_mask.png").read_bytes() == b"marker"
    assert len(list(out.glob("*_overlay.jpg"))) == 6
    assert main([*args, "--overwrite"]) == 0
    assert "6 images in" in capsys.readouterr().out
    assert (out / "p0002_mask.png").read_bytes() == kept


def test_memory_is_bounded_decoding_is_threaded_and_progress_shows_images_per_second(
        tmp_path, fake_backend, monkeypatch, capsys):
    """200 photos: never more than a few batches of decoded photos are held at once."""
    make_folder(tmp_path / "in", 200, size=(16, 16))
    lock = threading.Lock()
    state = {"decoded": 0, "written": 0, "peak": 0, "threads": set()}
    real_read, real_write = stills.read_rgb, stills.write_image

    def read(path):
        image = real_read(path)
        with lock:
            state["decoded"] += 1
            state["threads"].add(threading.current_thread().name)
            state["peak"] = max(state["peak"], state["decoded"] - state["written"])
        return image

    def write(path, picture):
        real_write(path, picture)
        with lock:
            state["written"] += 1

    monkeypatch.setattr(stills, "read_rgb", read)
    monkeypatch.setattr(stills, "write_image", write)
    rc = main(["predict", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--save", "mask",
               "--batch-size", "4", "--workers", "2"])
    assert rc == 0 and state["written"] == 200
    assert state["peak"] <= 3 * 8 + 4  # decode window + a batch + write window (window = 8)
    assert all(name.startswith("decode") for name in state["threads"]) and len(state["threads"]) == 2
    captured = capsys.readouterr()
    assert "images/s" in captured.err and "200/200" in captured.err
    assert "200 images in" in captured.out


def test_unreadable_photos_in_a_big_folder_are_reported_in_order(tmp_path, fake_backend, capsys):
    make_folder(tmp_path / "in", 30)
    (tmp_path / "in" / "p0007.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "in"), "--out", str(out), "--save", "mask",
                 "--batch-size", "4"]) == 1
    captured = capsys.readouterr()
    assert "p0007.png: not a readable image" in captured.err and "29 images in" in captured.out
    assert len(list(out.iterdir())) == 29


def test_bad_workers_value(tmp_path, fake_backend, capsys):
    make_folder(tmp_path / "in", 1)
    assert main(["predict", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--workers", "0"]) == 2
    assert "--workers 0: must be at least 1" in capsys.readouterr().err


def test_real_photos_through_the_pipeline_match_the_segmenter(tmp_path, capsys):
    """Sample photos, 12 copies each at different sizes, through the packaged model: every
    mask equals Segmenter.mask on the same photo (order and pairing kept across threads)."""
    folder = tmp_path / "photos"
    photos = {}
    for name, photo in sample_images().items():
        for i in range(12):
            crop = photo[i * 7 :, : photo.shape[1] - i * 5]
            photos[f"{name}_{i:02d}"] = crop
            write_image(folder / f"{name}_{i:02d}.png", crop)
    out = tmp_path / "out"
    assert main(["predict", str(folder), "--out", str(out), "--save", "mask,cutout",
                 "--batch-size", "5"]) == 0
    seg = Segmenter.pretrained()
    for stem in list(photos)[::5]:
        np.testing.assert_array_equal(read_mask(out / f"{stem}_mask.png") > 0, seg.mask(photos[stem]))
    assert f"{len(photos)} images in" in capsys.readouterr().out
