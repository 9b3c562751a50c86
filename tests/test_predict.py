"""`personseg predict`: outputs and their names, bad inputs, collisions, no overwriting, video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from personseg.cli import main
from personseg.files import read_mask, read_rgb, write_image
from personseg.inference.outputs import output_names
from personseg.inference.render import blur_background, cutout, overlay
from personseg.inference.segmenter import Segmenter
from tests.cli_run import assert_error
from tests.fakes import ChannelBackend, save_tiny_model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny.h5")


@pytest.fixture
def fake_backend(monkeypatch):
    """Make `--weights` load a ChannelBackend (mask = red channel ≥ 128), no TensorFlow needed."""
    backend = ChannelBackend(64)

    def from_weights(cls, path="weights.h5", backend_name="keras", **options):
        return cls(backend)

    monkeypatch.setattr(Segmenter, "open", classmethod(from_weights))
    return backend


def random_image(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def test_each_kind_is_written_with_the_documented_name_size_and_content(tmp_path, fake_backend, capsys):
    image = random_image((40, 64))
    write_image(tmp_path / "in" / "street.png", image)
    large = random_image((150, 230), seed=1)
    write_image(tmp_path / "in" / "large.jpg", large)
    out = tmp_path / "out"
    rc = main(["predict", str(tmp_path / "in"), "--out", str(out), "--save", "mask,overlay,cutout,blur",
               "--edges", "sharp"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{stem}_{kind}" for stem in ("street", "large")
        for kind in ("mask.png", "overlay.jpg", "cutout.png", "blur.jpg")
    )
    # 40×64 fits the 64×64 model without resizing, so the mask is exactly red ≥ 128
    mask = read_mask(out / "street_mask.png")
    assert mask.dtype == np.uint8 and mask.shape == (40, 64)
    np.testing.assert_array_equal(mask, np.where(image[..., 0] >= 128, 255, 0))
    rgba = cv2.imread(str(out / "street_cutout.png"), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (40, 64, 4)
    np.testing.assert_array_equal(rgba[..., 3], mask)
    person = mask > 0
    np.testing.assert_array_equal(rgba[..., 2::-1][person], image[person])  # BGRA on disk
    for kind in ("overlay", "blur"):
        assert read_rgb(out / f"street_{kind}.jpg").shape == (40, 64, 3)
    for kind, channels in (("mask.png", None), ("overlay.jpg", 3), ("cutout.png", 4), ("blur.jpg", 3)):
        written = cv2.imread(str(out / f"large_{kind}"), cv2.IMREAD_UNCHANGED)
        assert written.shape[:2] == (150, 230)
        assert (written.ndim == 2) if channels is None else written.shape[2] == channels
    summary = capsys.readouterr().out
    assert "2 images in" in summary and "images/s" in summary


def test_folder_with_a_corrupt_and_a_non_image_file(tmp_path, tiny_model, capsys):
    folder = tmp_path / "photos"
    write_image(folder / "good1.png", random_image((30, 50)))
    write_image(folder / "nested" / "good2.jpg", random_image((70, 20), seed=2))
    write_image(tmp_path / "whole.jpg", random_image((64, 64), seed=3))
    (folder / "broken.jpg").write_bytes((tmp_path / "whole.jpg").read_bytes()[:300])
    (folder / "notes.txt").write_text("not a picture\n")
    out = tmp_path / "out"
    rc = main(["predict", str(folder), "--weights", str(tiny_model), "--out", str(out), "--save", "mask"])
    assert rc == 1
    assert sorted(p.name for p in out.iterdir()) == ["good1_mask.png", "good2_mask.png"]
    assert read_mask(out / "good2_mask.png").shape == (70, 20)
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err and "not a readable image" in captured.err
    assert "notes.txt" in captured.err
    assert "2 images in" in captured.out and "1 failed" in captured.out


def test_missing_inputs_and_empty_patterns_fail_but_the_rest_is_processed(tmp_path, fake_backend, capsys):
    write_image(tmp_path / "a.png", random_image((20, 20)))
    rc = main(["predict", str(tmp_path / "a.png"), str(tmp_path / "nope.jpg"), str(tmp_path / "*.webp"),
               "--out", str(tmp_path / "out"), "--save", "mask"])
    assert rc == 1
    assert (tmp_path / "out" / "a_mask.png").is_file()
    err = capsys.readouterr().err
    assert "nope.jpg: no such file" in err and "*.webp: no files match" in err


def test_nothing_to_process_is_an_error(tmp_path, fake_backend, capsys):
    assert_error(capsys, "predict", tmp_path / "nope.jpg", "--out", tmp_path / "out",
                 message="no input images")


def test_glob_patterns_are_expanded(tmp_path, fake_backend):
    for name in ("x1.png", "x2.png", "y.jpg"):
        write_image(tmp_path / "in" / name, random_image((16, 16)))
    write_image(tmp_path / "in" / "deep" / "x3.png", random_image((16, 16)))
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "in" / "**" / "x*.png"), "--out", str(out), "--save", "mask"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["x1_mask.png", "x2_mask.png", "x3_mask.png"]


def test_same_stem_in_two_folders_is_disambiguated_not_overwritten(tmp_path, fake_backend):
    images = {
        "a/photo.png": random_image((40, 64), seed=1),  # longer side = model size: exact masks
        "b/photo.png": random_image((40, 64), seed=2),
        "b/photo.jpg": random_image((40, 64), seed=3),
        "b/other.png": random_image((40, 64), seed=4),
    }
    for rel, image in images.items():
        write_image(tmp_path / "in" / rel, image)
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "in"), "--out", str(out), "--save", "mask"]) == 0
    names = sorted(p.name for p in out.iterdir())
    # relative paths, with the extension because b/ holds photo.png and photo.jpg
    assert names == ["a__photo_png_mask.png", "b__photo_jpg_mask.png", "b__photo_png_mask.png",
                     "other_mask.png"]
    for rel in ("a/photo.png", "b/photo.png", "b/photo.jpg"):
        expected = read_rgb(tmp_path / "in" / rel)[..., 0] >= 128
        written = read_mask(out / f"{rel.replace('/', '__').replace('.', '_')}_mask.png") > 0
        np.testing.assert_array_equal(written, expected)


def test_same_stem_in_two_folders_uses_the_relative_path(tmp_path, fake_backend):
    write_image(tmp_path / "in" / "a" / "photo.png", random_image((20, 30), seed=1))
    write_image(tmp_path / "in" / "b" / "c" / "photo.png", random_image((20, 30), seed=2))
    out = tmp_path / "out"
    assert main(["predict", str(tmp_path / "in"), "--out", str(out), "--save", "mask"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a__photo_mask.png", "b__c__photo_mask.png"]


def test_output_names_stay_unique_when_a_rewritten_name_meets_a_real_stem():
    paths = [Path("/d/a/photo.png"), Path("/d/b/photo.png"), Path("/e/a__photo.png")]
    names = output_names(paths)
    assert len(set(names)) == 3 and names[:2] == ["a__photo", "b__photo"]


def test_refuses_to_write_onto_an_input_file(tmp_path, fake_backend, capsys):
    folder = tmp_path / "in"
    write_image(folder / "x.png", random_image((16, 16)))
    write_image(folder / "x_mask.png", random_image((16, 16), seed=5))
    before = (folder / "x_mask.png").read_bytes()
    assert_error(capsys, "predict", folder / "x.png", folder / "x_mask.png", "--out", folder,
                 "--save", "mask", message="x_mask.png")
    assert_error(capsys, "predict", folder, "--out", folder, "--save", "mask",
                 message="this output folder (--out) is the input INPUT")
    assert (folder / "x_mask.png").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["x.png", "x_mask.png"]


def test_output_folder_inside_an_input_folder_is_not_read_back(tmp_path, fake_backend, capsys):
    folder = tmp_path / "in"
    write_image(folder / "x.png", random_image((16, 16)))
    for _ in range(2):  # the second run would find x_mask.png if it read the output folder
        assert main(["predict", str(folder), "--out", str(folder / "out"), "--save", "mask",
                     "--overwrite"]) == 0
        assert "1 image in" in capsys.readouterr().out
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["x_mask.png"]


def test_batch_size_and_option_checks(tmp_path, fake_backend, capsys):
    for i in range(5):
        write_image(tmp_path / "in" / f"{i}.png", random_image((16, 16), seed=i))
    args = ["predict", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--save", "mask"]
    assert main([*args, "--batch-size", "2"]) == 0
    assert fake_backend.batch_sizes == [2, 2, 1]
    capsys.readouterr()
    assert_error(capsys, "predict", tmp_path / "in", "--out", tmp_path / "o", "--save", "mask,halo",
                 message="--save mask,halo: choose one or more of")
    assert_error(capsys, *args, "--threshold", "1.5", message="--threshold 1.5: must be between 0 and 1")


def write_video(path: Path, frames: int, size: tuple[int, int], fps: float) -> None:
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for i in range(frames):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, : (i + 1) * width // (frames + 1)] = (40, 40, 250)  # BGR: red block grows
        writer.write(frame)
    writer.release()


def video_info(path: Path) -> tuple[int, int, int, float]:
    """(decoded frame count, width, height, fps)."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    count = 0
    while capture.read()[0]:
        count += 1
    info = (count, int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            capture.get(cv2.CAP_PROP_FPS))
    capture.release()
    return info


def test_video_end_to_end_keeps_frame_count_size_and_fps(tmp_path, tiny_model, capsys):
    video = tmp_path / "clip.mp4"
    write_video(video, frames=9, size=(80, 48), fps=12)
    assert video_info(video) == (9, 80, 48, 12.0)
    out = tmp_path / "out"
    rc = main(["predict", str(video), "--weights", str(tiny_model), "--out", str(out),
               "--save", "mask,overlay,cutout,blur", "--save-frames", "--batch-size", "4"])
    assert rc == 0
    for kind in ("mask", "overlay", "cutout", "blur"):
        assert video_info(out / f"clip_{kind}.mp4") == (9, 80, 48, 12.0), kind
    frames = sorted((out / "clip_frames").iterdir())
    assert [p.name for p in frames] == [f"{i:06d}_mask.png" for i in range(9)]
    assert all(read_mask(p).shape == (48, 80) for p in frames)
    assert "1 video (9 frames)" in capsys.readouterr().out


def test_video_masks_follow_the_frames(tmp_path, fake_backend):
    """With the red-channel backend the person is the growing red block, frame by frame."""
    video = tmp_path / "clip.mp4"
    write_video(video, frames=5, size=(64, 32), fps=10)
    out = tmp_path / "out"
    assert main(["predict", str(video), "--out", str(out), "--save", "mask", "--save-frames"]) == 0
    for i in range(5):
        mask = read_mask(out / "clip_frames" / f"{i:06d}_mask.png") > 0
        edge = (i + 1) * 64 // 6
        assert mask[:, : edge - 2].all() and not mask[:, edge + 2 :].any(), i


def test_unreadable_video_is_reported(tmp_path, fake_backend, capsys):
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 1000)
    write_image(tmp_path / "ok.png", random_image((16, 16)))
    out = tmp_path / "out"
    rc = main(["predict", str(tmp_path / "bad.mp4"), str(tmp_path / "ok.png"), "--out", str(out)])
    assert rc == 1
    assert "bad.mp4" in capsys.readouterr().err
    assert not (tmp_path / "out" / "bad_mask.mp4").exists()


def test_renderings():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    mask = np.zeros((60, 80), bool)
    mask[20:40, 30:50] = True
    rgba = cutout(image, mask)
    np.testing.assert_array_equal(rgba[..., 3], np.where(mask, 255, 0))
    np.testing.assert_array_equal(rgba[mask, :3], image[mask])
    assert not rgba[~mask].any()
    tinted = overlay(image, mask)
    far = np.ones_like(mask)
    far[15:45, 25:55] = False  # away from the outline
    np.testing.assert_array_equal(tinted[far], image[far])
    assert np.abs(tinted[25:35, 35:45].astype(int) - image[25:35, 35:45]).mean() > 10
    blurred = blur_background(image, mask)
    np.testing.assert_array_equal(blurred[25:35, 35:45], image[25:35, 35:45])  # person stays sharp
    assert blurred[far].std() < image[far].std() / 2  # background is smoothed
