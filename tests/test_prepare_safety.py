"""Hostile input for `personseg prepare` / `prepare-folder`: never write over an input, refuse an
--out that is a file or cannot be written, stop cleanly on a full disk, clean up killed runs."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.cli_run import assert_error, run_cli
from tests.synthetic_coco import make_coco


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` → SHA-1 of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def coco_in_layout(tmp_path):
    """COCO photos living in ROOT/images/train, as a downloaded prepared-looking tree does."""
    ann, images = make_coco(tmp_path / "coco")
    root = tmp_path / "ROOT"
    (root / "images").mkdir(parents=True)
    shutil.move(str(images), root / "images" / "train")
    return ann, root


@pytest.mark.parametrize("extra", [[], ["--max-side", "40"]])
def test_prepare_refuses_an_out_whose_output_folder_is_the_image_folder(tmp_path, capsys, coco_in_layout,
                                                                         extra):
    ann, root = coco_in_layout
    before = snapshot(root)
    message = assert_error(capsys, "prepare", "--annotations", ann, "--images", root / "images/train",
                           "--out", root, *extra, message="prepared files would replace the input files")
    assert str(root / "images" / "train") in message
    assert snapshot(root) == before  # not one photo touched, nothing added


def test_prepare_refuses_an_input_reached_through_a_symlinked_output_folder(tmp_path, capsys, coco_in_layout):
    ann, root = coco_in_layout
    out = tmp_path / "out"
    (out / "images").mkdir(parents=True)
    (out / "images" / "train").symlink_to(root / "images" / "train")
    before = snapshot(root)
    assert_error(capsys, "prepare", "--annotations", ann, "--images", root / "images/train", "--out", out,
                 message="would replace the input files")
    assert snapshot(root) == before


def test_prepare_refuses_an_output_file_that_is_an_input_file(tmp_path, capsys):
    """A COCO file_name with a folder can point into the output layout: same inode → refused."""
    import json

    ann, images = make_coco(tmp_path / "coco")
    data = json.loads(ann.read_text())
    (images / "train").mkdir()
    for info in data["images"]:
        shutil.move(str(images / info["file_name"]), images / "train" / info["file_name"])
        info["file_name"] = f"train/{info['file_name']}"
    ann.write_text(json.dumps(data))
    before = snapshot(images)
    # --out's images/train folder is the photos' folder reached as images/ + file_name
    assert_error(capsys, "prepare", "--annotations", ann, "--images", images, "--out", images.parent,
                 message="this output file is the input")
    assert snapshot(images) == before


def test_prepare_folder_refuses_writing_into_its_mask_folder(tmp_path, capsys):
    images, masks = tmp_path / "src/images", tmp_path / "ROOT/masks/train"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    cv2.imwrite(str(images / "a.jpg"), np.full((8, 10, 3), 90, np.uint8))
    cv2.imwrite(str(masks / "a.png"), np.ones((8, 10), np.uint8))  # 0/1: would be rewritten as 0/255
    before = snapshot(tmp_path)
    assert_error(capsys, "prepare-folder", "--images", images, "--masks", masks, "--out", tmp_path / "ROOT",
                 message=f"the output folder is --masks {masks}")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["prepare", "prepare-folder"])
def test_an_out_that_is_a_file_is_refused_before_anything_is_written(tmp_path, capsys, command):
    ann, images = make_coco(tmp_path / "coco")
    out = tmp_path / "out.txt"
    out.write_text("not a folder")
    if command == "prepare":
        args = ["prepare", "--annotations", ann, "--images", images]
    else:
        masks = tmp_path / "masks"
        masks.mkdir()
        cv2.imwrite(str(masks / "a.png"), np.zeros((60, 80), np.uint8))
        args = ["prepare-folder", "--images", images, "--masks", masks]
    assert_error(capsys, *args, "--out", out, message=f"{out}: --out exists and is not a folder")
    assert out.read_text() == "not a folder"


def _fail_writes_after(monkeypatch, n: int, err: int):
    """The disk fills up (or turns read-only) after `n` files were written."""
    real = Path.write_bytes
    count = []

    def write_bytes(self, data):
        if ".tmp" in self.name:
            count.append(self)
            if len(count) > n:
                real(self, data[: len(data) // 2])  # what fitted
                raise OSError(err, os.strerror(err))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


@pytest.mark.parametrize("err,problem", [(errno.ENOSPC, "no space left on device (disk full)"),
                                         (errno.EROFS, "read-only file system")])
def test_a_full_or_read_only_disk_stops_prepare_with_one_error_line(tmp_path, capsys, monkeypatch,
                                                                   err, problem):
    ann, images = make_coco(tmp_path / "coco")
    out = tmp_path / "out"
    _fail_writes_after(monkeypatch, 3, err)
    code, stdout, stderr = run_cli(capsys, "prepare", "--annotations", ann, "--images", images, "--out", out)
    assert code == 2 and f"cannot write: {problem}" in stderr.splitlines()[-1]
    assert "done (train)" not in stdout + stderr and "stopped by an error (train)" in stderr
    assert not list(out.rglob(".*.tmp*"))  # nothing half-written, under any name
    for path in out.rglob("*.jpg"):
        assert cv2.imread(str(path)) is not None
    monkeypatch.undo()
    code, stdout, _ = run_cli(capsys, "prepare", "--annotations", ann, "--images", images, "--out", out)
    assert code == 0 and "5 images" in stdout


def test_a_read_only_out_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    ann, images = make_coco(tmp_path / "coco")
    import personseg.disk

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(personseg.disk.tempfile, "mkstemp", read_only)
    assert_error(capsys, "prepare", "--annotations", ann, "--images", images, "--out", tmp_path / "out",
                 message="cannot write: read-only file system")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="needs root to mount a tmpfs")
def test_a_real_full_disk_stops_prepare_cleanly(tmp_path, capsys):
    """The same on a real 64 KiB tmpfs (no monkeypatching): error line, no partial files."""
    ann, images = make_coco(tmp_path / "coco")
    big = images / "a.jpg"
    cv2.imwrite(str(big), np.random.default_rng(0).integers(0, 255, (60, 80, 3), np.uint8),
                [cv2.IMWRITE_JPEG_QUALITY, 100])
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        code, _, err = run_cli(capsys, "prepare", "--annotations", ann, "--images", images, "--out", disk)
        assert code == 2 and "no space left on device (disk full)" in err.splitlines()[-1]
        assert not list(disk.rglob(".*.tmp*"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(tmp_path, capsys):
    ann, images = make_coco(tmp_path / "coco")
    out = tmp_path / "out"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (out / "masks/train").mkdir(parents=True)
    (out / "images/train").mkdir(parents=True)
    killed = out / f"masks/train/.c.{dead}.ab12cd34.tmp.png"  # its writer is gone
    killed.write_bytes(b"half a png")
    live = out / f"images/train/.d.{os.getpid()}.ab12cd34.tmp.jpg"  # a writer still running
    live.write_bytes(b"being written")
    old = out / "images/train/.e.x1y2.tmp.jpg"  # older naming, a day old
    old.write_bytes(b"old")
    os.utime(old, (time.time() - 86400,) * 2)
    code, _, _ = run_cli(capsys, "prepare", "--annotations", ann, "--images", images, "--out", out)
    assert code == 0
    assert not killed.exists() and not old.exists() and live.exists()


def test_an_unreadable_source_is_skipped_not_a_traceback(tmp_path, capsys, monkeypatch):
    ann, images = make_coco(tmp_path / "coco")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "b.jpg":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, stdout, _ = run_cli(capsys, "prepare", "--annotations", ann, "--images", images,
                              "--out", tmp_path / "out")
    assert code == 1 and "b.jpg: cannot read the image file (Permission denied)" in stdout


def test_a_truncated_source_photo_is_skipped_and_listed(tmp_path, capsys):
    ann, images = make_coco(tmp_path / "coco")
    rng = np.random.default_rng(3)
    cv2.imwrite(str(images / "a.jpg"), rng.integers(0, 255, (60, 80, 3), np.uint8))
    data = (images / "a.jpg").read_bytes()
    (images / "a.jpg").write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "prepare", "--annotations", ann, "--images", images, "--out", out)
    assert code == 1 and "  a.jpg: image file is not readable (corrupt or unsupported format)" in stdout
    assert not (out / "images/train/a.jpg").exists() and not (out / "masks/train/a.png").exists()
