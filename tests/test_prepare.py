"""`personseg prepare`: masks, layout, manifest, options, resume, crash safety and bad input."""

from __future__ import annotations

import csv
import json
import os

import cv2
import numpy as np
import pytest

import personseg.data.pair_files
from personseg.cli import main
from personseg.data.dataset_layout import check_sizes, find_pairs
from personseg.files import atomic_path
from tests.cli_run import run_cli
from tests.synthetic_coco import SIZES, coco_dict, expected_mask, make_coco

IDS = {name: i for i, name in enumerate(SIZES, start=1)}  # a.jpg -> 1, ...
STEMS = ["a", "b", "c", "d", "e"]


@pytest.fixture
def coco(tmp_path):
    return make_coco(tmp_path / "coco")


def prepare(capsys, ann, images, out, *extra):
    """Run `personseg prepare`; fails the test if it prints a traceback (tests.cli_run)."""
    return run_cli(capsys, "prepare", "--annotations", ann, "--images", images, "--out", out, *extra)


def manifest(out, split="train"):
    with open(out / f"manifest_{split}.csv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def read_png(path):
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.ndim == 2 and mask.dtype == np.uint8, path
    return mask


def stems(folder):
    return sorted(p.stem for p in folder.iterdir() if not p.name.startswith("."))


def test_prepare_writes_layout_masks_and_manifest(tmp_path, capsys, coco):
    ann, images = coco
    out = tmp_path / "out"
    code, stdout, _ = prepare(capsys, ann, images, out)
    assert code == 0
    assert "5 images (5 written, 0 already done), 5 person instances, 1 crowd region, 2 negatives" in stdout
    assert stems(out / "images" / "train") == STEMS == stems(out / "masks" / "train")
    for stem in STEMS:
        name = next(n for n in SIZES if n.startswith(stem))
        np.testing.assert_array_equal(read_png(out / "masks" / "train" / f"{stem}.png"),
                                      expected_mask(ann, IDS[name]))
    # JPEGs are copied byte for byte; the PNG source is encoded once as JPEG
    assert (out / "images/train/a.jpg").read_bytes() == (images / "a.jpg").read_bytes()
    d = (out / "images/train/d.jpg").read_bytes()
    assert d.startswith(b"\xff\xd8\xff") and cv2.imread(str(out / "images/train/d.jpg")).shape == (24, 32, 3)
    rows = manifest(out)
    assert list(rows) == [f"{s}.jpg" for s in STEMS]
    a = rows["a.jpg"]
    mask_a = read_png(out / "masks/train/a.png")
    assert (a["width"], a["height"], a["persons"], a["crowds"]) == ("80", "60", "2", "1")
    assert float(a["foreground"]) == pytest.approx(np.count_nonzero(mask_a) / mask_a.size, abs=1e-6)
    assert rows["c.jpg"]["persons"] == "0" and float(rows["c.jpg"]["foreground"]) == 0
    pairs = find_pairs(out, "train")
    check_sizes(pairs)
    assert len(pairs) == 5


def test_max_side_downscales_image_and_mask_together(tmp_path, capsys, coco):
    ann, images = coco
    out = tmp_path / "out"
    assert prepare(capsys, ann, images, out, "--max-side", "40")[0] == 0
    full = expected_mask(ann, IDS["a.jpg"])
    mask = read_png(out / "masks/train/a.png")
    assert mask.shape == (30, 40) and set(np.unique(mask).tolist()) == {0, 255}
    np.testing.assert_array_equal(mask, cv2.resize(full, (40, 30), interpolation=cv2.INTER_NEAREST))
    assert cv2.imread(str(out / "images/train/a.jpg")).shape == (30, 40, 3)
    assert read_png(out / "masks/train/b.png").shape == (40, 32)
    # an image already small enough is still copied unchanged
    assert (out / "images/train/c.jpg").read_bytes() == (images / "c.jpg").read_bytes()
    assert manifest(out)["a.jpg"]["width"] == "40"


@pytest.mark.parametrize("negatives,kept",
                         [("all", STEMS), ("none", ["a", "b", "d"]), ("1", ["a", "b", "c", "d"])])
def test_negatives(tmp_path, capsys, coco, negatives, kept):
    ann, images = coco
    out = tmp_path / "out"
    assert prepare(capsys, ann, images, out, "--negatives", negatives)[0] == 0
    assert stems(out / "masks" / "train") == kept


def test_negatives_must_be_all_none_or_a_number(tmp_path, capsys, coco):
    code, _, err = prepare(capsys, *coco, tmp_path / "out", "--negatives", "some")
    assert code == 2 and "--negatives some: expected all, none or a number" in err
    assert not (tmp_path / "out").exists()


def test_crowd_ignore_and_min_area(tmp_path, capsys, coco):
    ann, images = coco
    out = tmp_path / "out"
    assert prepare(capsys, ann, images, out, "--crowd", "ignore", "--min-area", "10")[0] == 0
    np.testing.assert_array_equal(read_png(out / "masks/train/a.png"), expected_mask(ann, 1, crowd=False))
    np.testing.assert_array_equal(read_png(out / "masks/train/b.png"), expected_mask(ann, 2, min_area=10))
    rows = manifest(out)
    assert rows["a.jpg"]["crowds"] == "0" and rows["b.jpg"]["persons"] == "1"
    assert not np.array_equal(read_png(out / "masks/train/a.png"), expected_mask(ann, 1))


def test_two_workers_write_the_same_files(tmp_path, capsys, coco):
    ann, images = coco
    one, two = tmp_path / "one", tmp_path / "two"
    assert prepare(capsys, ann, images, one)[0] == 0
    code, stdout, _ = prepare(capsys, ann, images, two, "--workers", "2")
    assert code == 0 and "5 written" in stdout
    for sub in ("images/train", "masks/train"):
        for path in sorted((one / sub).iterdir()):
            assert path.read_bytes() == (two / sub / path.name).read_bytes(), path
    assert (one / "manifest_train.csv").read_text() == (two / "manifest_train.csv").read_text()


def test_spawned_workers_when_tensorflow_is_loaded(tmp_path, capsys, coco, monkeypatch):
    """With TensorFlow imported (a notebook kernel), the pool spawns instead of forking."""
    import sys
    import types

    from personseg.data.runner import _pool_context

    ann, images = coco
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    assert _pool_context().get_start_method() == "spawn"
    out = tmp_path / "out"
    code, stdout, _ = prepare(capsys, ann, images, out, "--workers", "2")
    assert code == 0 and "5 written" in stdout
    for name, image_id in IDS.items():
        mask = read_png(out / f"masks/train/{name[0]}.png")
        np.testing.assert_array_equal(mask, expected_mask(ann, image_id))


def test_resume_skips_finished_pairs_and_ignores_temporary_files(tmp_path, capsys, coco):
    ann, images = coco
    out = tmp_path / "out"
    code, stdout, _ = prepare(capsys, ann, images, out, "--limit", "2")
    assert code == 0 and "2 written" in stdout and list(manifest(out)) == ["a.jpg", "b.jpg"]
    finished = [out / "images/train/a.jpg", out / "masks/train/a.png", out / "masks/train/b.png"]
    mtimes = [p.stat().st_mtime_ns for p in finished]
    (out / "masks/train/.c.x1y2.tmp.png").write_bytes(b"half a png")  # left by a killed run
    (out / "images/train/.d.x1y2.tmp.jpg").write_bytes(b"half a jpeg")
    code, stdout, _ = prepare(capsys, ann, images, out)
    assert code == 0 and "5 images (3 written, 2 already done)" in stdout
    assert [p.stat().st_mtime_ns for p in finished] == mtimes
    assert list(manifest(out)) == [f"{s}.jpg" for s in STEMS]
    np.testing.assert_array_equal(read_png(out / "masks/train/c.png"), expected_mask(ann, 3))
    assert len(find_pairs(out, "train")) == 5
    # a later partial run keeps earlier runs' rows in the manifest
    code, stdout, _ = prepare(capsys, ann, images, out, "--limit", "1")
    assert code == 0 and "1 already done" in stdout and len(manifest(out)) == 5


def _crash_on_mask(monkeypatch, n, exc):
    """Make the n-th write_image call (a mask: JPEG sources are copied) die half-way through."""
    real, calls = personseg.data.pair_files.write_image, []

    def crashing(path, image, quality=95):
        calls.append(path)
        if len(calls) == n:
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"\x89PNG half")
                raise exc
        return real(path, image, quality)

    monkeypatch.setattr(personseg.data.pair_files, "write_image", crashing)


def _finished_outputs_are_whole(out):
    for path in (out / "masks/train").glob("*.png"):
        read_png(path)
    for path in (out / "images/train").glob("*.jpg"):
        assert cv2.imread(str(path)) is not None
    assert not list(out.rglob("*.tmp*"))


def test_crash_mid_run_leaves_no_partial_files_and_a_rerun_completes(tmp_path, capsys, coco, monkeypatch):
    ann, images = coco
    out = tmp_path / "out"
    _crash_on_mask(monkeypatch, 3, RuntimeError("simulated crash"))  # a bug: its traceback is wanted
    with pytest.raises(RuntimeError, match="simulated crash"):
        main(["prepare", "--annotations", str(ann), "--images", str(images), "--out", str(out)])
    assert stems(out / "masks/train") == ["a", "b"]  # c's mask never reached its final name
    _finished_outputs_are_whole(out)
    assert list(manifest(out)) == ["a.jpg", "b.jpg"]
    monkeypatch.undo()
    code, stdout, _ = prepare(capsys, ann, images, out)
    assert code == 0 and "(3 written, 2 already done)" in stdout
    for name, image_id in IDS.items():
        stem = name.split(".")[0]
        np.testing.assert_array_equal(read_png(out / f"masks/train/{stem}.png"), expected_mask(ann, image_id))


def test_ctrl_c_leaves_a_usable_output_and_manifest(tmp_path, capsys, coco, monkeypatch):
    ann, images = coco
    out = tmp_path / "out"
    _crash_on_mask(monkeypatch, 4, KeyboardInterrupt())
    code, _, err = prepare(capsys, ann, images, out)
    assert code == 130 and "interrupted (train): 3 images" in err
    assert list(manifest(out)) == ["a.jpg", "b.jpg", "c.jpg"]
    assert len(find_pairs(out, "train")) == 3
    _finished_outputs_are_whole(out)
    monkeypatch.undo()
    code, stdout, _ = prepare(capsys, ann, images, out)
    assert code == 0 and "(2 written, 3 already done)" in stdout and len(manifest(out)) == 5


def _break(tmp_path, case):
    """Write the synthetic set with one per-image problem; return (ann, images, file, reason)."""
    data = coco_dict()
    if case == "size":
        data["images"][2]["width"] = 31
    elif case == "polygon":
        data["annotations"][0]["segmentation"] = [[1, 2, 3, 4]]
    elif case == "rle":
        data["annotations"][4]["segmentation"]["counts"] += "3"
    ann, images = make_coco(tmp_path / "coco", data)
    if case == "missing":
        (images / "b.jpg").unlink()
    elif case == "unreadable":
        (images / "b.jpg").write_bytes(b"not a jpeg at all")
    return ann, images, {
        "missing": ("b.jpg", "image file not found"),
        "unreadable": ("b.jpg", "image file is not readable"),
        "size": ("c.jpg", "image is 30×30 but the annotations say 31×30"),
        "polygon": ("a.jpg", "annotation 1: degenerate polygon with 4 coordinates"),
        "rle": ("b.jpg", "annotation 5: RLE counts cover"),
    }[case]


@pytest.mark.parametrize("case", ["missing", "unreadable", "size", "polygon", "rle"])
def test_per_image_problems_are_skipped_listed_and_exit_1(tmp_path, capsys, case):
    ann, images, (name, reason) = _break(tmp_path, case)
    out = tmp_path / "out"
    code, stdout, _ = prepare(capsys, ann, images, out)
    assert code == 1
    assert "1 skipped" in stdout and f"  {name}: {reason}" in stdout
    stem = name.split(".")[0]
    assert stem not in stems(out / "masks/train") and len(stems(out / "masks/train")) == 4
    assert f"{stem}.jpg" not in manifest(out)


def test_fatal_problems_write_nothing(tmp_path, capsys, coco):
    ann, images = coco
    out = tmp_path / "out"
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('{"images": [1, 2')
    no_person = tmp_path / "dogs.json"
    data = coco_dict()
    data["categories"] = [{"id": 18, "name": "dog"}]
    no_person.write_text(json.dumps(data))
    no_keys = tmp_path / "keys.json"
    no_keys.write_text(json.dumps({"images": []}))
    cases = [
        (tmp_path / "absent.json", images, "absent.json: annotation file not found"),
        (bad_json, images, "broken.json: not valid JSON"),
        (no_keys, images, "keys.json: missing or not a list: annotations, categories"),
        (no_person, images, "dogs.json: no 'person' category"),
        (ann, tmp_path / "no-images", "no-images: image folder not found"),
    ]
    for ann_path, image_dir, message in cases:
        code, stdout, err = prepare(capsys, ann_path, image_dir, out)
        assert code == 2, message
        assert err.startswith("error: ") and message in err
        assert not out.exists()


@pytest.mark.slow
@pytest.mark.shared_data
def test_coco_mini_minitrain_matches_pycocotools_and_resumes(tmp_path, capsys, coco_mini):
    from pycocotools.coco import COCO

    ann = coco_mini / "annotations" / "instances_minitrain.json"
    out = tmp_path / "out"
    code, stdout, _ = prepare(capsys, ann, coco_mini / "images", out, "--workers", "2")
    assert code == 0 and "281 images (281 written, 0 already done)" in stdout
    pairs = find_pairs(out, "train")
    assert len(pairs) == 281
    reference = COCO(str(ann))
    person = reference.getCatIds(catNms=["person"])
    for info in reference.imgs.values():
        expected = np.zeros((info["height"], info["width"]), np.uint8)
        for a in reference.loadAnns(reference.getAnnIds(imgIds=info["id"], catIds=person, iscrowd=None)):
            expected = np.maximum(expected, reference.annToMask(a))
        stem = os.path.splitext(info["file_name"])[0]
        np.testing.assert_array_equal(read_png(out / f"masks/train/{stem}.png"), expected * 255)
    assert len(manifest(out)) == 281
    code, stdout, _ = prepare(capsys, ann, coco_mini / "images", out)
    assert code == 0 and "281 images (0 written, 281 already done)" in stdout


def test_manifest_lists_pairs_finished_but_not_yet_reported_when_interrupted(tmp_path, capsys):
    """A pool worker can finish a pair after the parent's last result; Ctrl-C must still list it."""
    from personseg.data.pair_files import write_pair
    from personseg.data.runner import Job, run_jobs

    out = tmp_path / "out"
    jobs = [Job(f"{s}.jpg", out / f"images/train/{s}.jpg", out / f"masks/train/{s}.png") for s in "abc"]

    def worker(job):
        mask = np.full((4, 6), 255, np.uint8)
        write_pair(job.image_out, job.mask_out, np.zeros((4, 6, 3), np.uint8), mask, None)
        if job.file == "b.jpg":
            raise KeyboardInterrupt  # written, but the result never reaches the parent
        return job.row(mask)

    with pytest.raises(KeyboardInterrupt):
        run_jobs(worker, jobs, out, "train")
    assert list(manifest(out)) == ["a.jpg", "b.jpg"] and manifest(out)["b.jpg"]["width"] == "6"
    assert "interrupted (train): 1 image (" in capsys.readouterr().err


def test_exif_rotated_jpeg_is_reencoded_upright_as_stored(tmp_path, capsys, coco):
    """COCO annotates stored pixels; a copied EXIF rotation would turn the photo but not the mask."""
    from PIL import Image

    ann, images = coco
    pixels = cv2.cvtColor(cv2.imread(str(images / "a.jpg")), cv2.COLOR_BGR2RGB)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    Image.fromarray(pixels).save(images / "a.jpg", exif=exif)
    assert cv2.imread(str(images / "a.jpg")).shape == (80, 60, 3)  # readers do apply it
    out = tmp_path / "out"
    assert prepare(capsys, ann, images, out)[0] == 0
    written = out / "images/train/a.jpg"
    assert written.read_bytes() != (images / "a.jpg").read_bytes()
    assert cv2.imread(str(written)).shape == (60, 80, 3) == (*read_png(out / "masks/train/a.png").shape, 3)


def test_workers_must_be_positive(tmp_path, capsys, coco):
    code, _, err = prepare(capsys, *coco, tmp_path / "out", "--workers", "0")
    assert code == 2 and "--workers 0: must be at least 1" in err
