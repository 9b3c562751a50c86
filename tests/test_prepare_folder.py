"""`personseg prepare-folder`: pair checks, 0/1 masks, skips listed, resume, workers, real sets."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from personseg.cli import main
from personseg.data.dataset_layout import find_pairs
from personseg.files import read_mask, write_image
from tests.cli_run import assert_error, run_cli

GOOD = ["good1", "good2", "ones"]


def _mask(h, w, high=255):
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = high
    return mask


@pytest.fixture
def folders(tmp_path):
    """Three good pairs (one 0/1, one .bmp mask) and one of every problem."""
    rng = np.random.default_rng(0)
    images, masks = tmp_path / "src" / "images", tmp_path / "src" / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)

    def photo(name, h=30, w=40):
        cv2.imwrite(str(images / name), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))

    photo("good1.jpg")
    cv2.imwrite(str(masks / "good1.png"), _mask(30, 40))
    photo("good2.jpg", 36, 20)
    cv2.imwrite(str(masks / "good2.bmp"), _mask(36, 20))
    photo("ones.jpg")
    cv2.imwrite(str(masks / "ones.png"), _mask(30, 40, high=1))
    photo("lonely.jpg")
    cv2.imwrite(str(masks / "orphan.png"), _mask(30, 40))
    photo("big.jpg")
    cv2.imwrite(str(masks / "big.png"), _mask(30, 30))
    photo("gray.jpg")
    gray = _mask(30, 40)
    gray[0, 0] = 128
    cv2.imwrite(str(masks / "gray.png"), gray)
    photo("broken.jpg")
    (masks / "broken.png").write_bytes(b"not a png")
    return images, masks


def run(capsys, images, masks, out, *extra):
    """Run `personseg prepare-folder`; fails the test if it prints a traceback (tests.cli_run)."""
    return run_cli(capsys, "prepare-folder", "--images", images, "--masks", masks, "--out", out, *extra)


def manifest(out, split="train"):
    with open(out / f"manifest_{split}.csv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def test_good_pairs_are_written_and_every_problem_is_listed(tmp_path, capsys, folders):
    images, masks = folders
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, images, masks, out)
    assert code == 1
    assert "3 images (3 written, 0 already done), 0 negatives (empty mask), 5 skipped" in stdout
    assert "person instances" not in stdout
    for line in [
        "  lonely.jpg: no mask named lonely.png in",
        "  orphan.png: mask without an image in",
        "  big.jpg: mask big.png is 30×30 but the image is 40×30",
        "  gray.jpg: mask is not binary: values 0, 128, 255 (expected 0/255 or 0/1)",
        "broken.png: not a readable mask image",
    ]:
        assert line in stdout, line
    pairs = find_pairs(out, "train")
    assert [p.stem for p in pairs] == GOOD
    assert (out / "images/train/good1.jpg").read_bytes() == (images / "good1.jpg").read_bytes()
    np.testing.assert_array_equal(read_mask(out / "masks/train/ones.png"), _mask(30, 40))
    np.testing.assert_array_equal(read_mask(out / "masks/train/good2.png"), _mask(36, 20))
    rows = manifest(out)
    assert list(rows) == [f"{s}.jpg" for s in GOOD]
    assert rows["good2.jpg"]["width"] == "20" and rows["good2.jpg"]["persons"] == ""
    assert float(rows["ones.jpg"]["foreground"]) == pytest.approx(np.mean(_mask(30, 40) > 0), abs=1e-6)


def test_rerun_skips_finished_pairs(tmp_path, capsys, folders):
    images, masks = folders
    out = tmp_path / "out"
    run(capsys, images, masks, out, "--limit", "3")  # big, broken (skipped), good1
    first = out / "masks/train/good1.png"
    mtime = first.stat().st_mtime_ns
    code, stdout, _ = run(capsys, images, masks, out)
    assert code == 1 and "3 images (2 written, 1 already done)" in stdout
    assert first.stat().st_mtime_ns == mtime and len(manifest(out)) == 3


def test_clean_folders_exit_0_with_two_workers_and_max_side(tmp_path, capsys, folders):
    images, masks = folders
    for name in ("lonely.jpg", "big.jpg", "gray.jpg", "broken.jpg"):
        (images / name).unlink()
    for name in ("orphan.png", "big.png", "gray.png", "broken.png"):
        (masks / name).unlink()
    code, stdout, _ = run(capsys, images, masks, tmp_path / "one", "--max-side", "20")
    assert code == 0 and "0 skipped" in stdout
    code, _, _ = run(capsys, images, masks, tmp_path / "two", "--max-side", "20", "--workers", "2")
    assert code == 0
    for sub in ("images/train", "masks/train"):
        for path in sorted((tmp_path / "one" / sub).iterdir()):
            assert path.read_bytes() == (tmp_path / "two" / sub / path.name).read_bytes()
    mask = read_mask(tmp_path / "one/masks/train/good1.png")
    assert mask.shape == (15, 20) and set(np.unique(mask).tolist()) == {0, 255}


def test_fatal_problems_write_nothing(tmp_path, capsys, folders):
    images, masks = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    for image_dir, mask_dir, message in [
        (tmp_path / "nope", masks, "nope: image folder not found"),
        (images, tmp_path / "nada", "nada: mask folder not found"),
        (empty, masks, "empty: no images found"),
    ]:
        code, _, err = run(capsys, image_dir, mask_dir, out)
        assert code == 2 and err.startswith("error: ") and message in err
        assert not out.exists()


@pytest.mark.shared_data
def test_real_mask_set_is_copied_unchanged(tmp_path, capsys, person_masks):
    source = person_masks / "humanseg"
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, source / "images", source / "masks", out, "--limit", "12", "--split", "hs")
    assert code == 0 and "12 written" in stdout
    for pair in find_pairs(out, "hs"):
        np.testing.assert_array_equal(read_mask(pair.mask), read_mask(source / "masks" / pair.mask.name))
        assert pair.image.read_bytes() == (source / "images" / pair.image.name).read_bytes()


def test_holdout_sends_a_fixed_hash_chosen_share_to_the_test_split(tmp_path, capsys):
    import hashlib

    images, masks = tmp_path / "src" / "images", tmp_path / "src" / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    stems = [f"p{i:02d}" for i in range(20)]
    for stem in stems:
        write_image(images / f"{stem}.jpg", np.full((8, 10, 3), 120, np.uint8))
        write_image(masks / f"{stem}.png", np.zeros((8, 10), np.uint8))
    out = tmp_path / "out"
    code = main(["prepare-folder", "--images", str(images), "--masks", str(masks), "--out", str(out),
                 "--holdout", "5"])
    assert code == 0
    expected = {s for s in stems if int(hashlib.sha1(s.encode()).hexdigest()[:8], 16) % 5 == 0}
    assert 0 < len(expected) < len(stems)
    assert {p.stem for p in (out / "images" / "test").iterdir()} == expected
    assert {p.stem for p in (out / "images" / "train").iterdir()} == set(stems) - expected
    assert (out / "manifest_train.csv").is_file() and (out / "manifest_test.csv").is_file()
    assert_error(capsys, "prepare-folder", "--images", images, "--masks", masks, "--out", out,
                 "--holdout", "1", message="--holdout 1: must be at least 2")
