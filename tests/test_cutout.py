"""The rembg / MediaPipe habits: `personseg cutout IN OUT` file to file with `-` for stdin and
stdout, `personseg.remove(image)` in Python, `personseg --version`; `predict in.jpg out.png`
points at `cutout` instead of failing on a missing input."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

import personseg
from personseg.files import read_rgb
from tests.cli_run import assert_error, run_cli
from tests.conftest import REPO

PHOTO = REPO / "assets" / "grace_hopper.jpg"


@pytest.fixture
def photo(tmp_path):
    return shutil.copy(PHOTO, tmp_path / "in.jpg")


def read_rgba(path_or_bytes) -> np.ndarray:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read()
    bgra = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)


def check_cutout(rgba: np.ndarray, rgb: np.ndarray) -> None:
    assert rgba.shape == (*rgb.shape[:2], 4) and rgba.dtype == np.uint8
    alpha = rgba[..., 3]
    assert 0.1 < np.mean(alpha > 127) < 0.9  # a person, not the whole frame
    assert alpha[150, 280] == 255 and alpha[10, 10] == 0  # her face is kept, the top-left corner not
    opaque = alpha == 255
    np.testing.assert_array_equal(rgba[..., :3][opaque], rgb[opaque])


def test_cutout_file_to_file_matches_remove(photo, tmp_path, capsys):
    out = tmp_path / "out.png"
    code, printed, _ = run_cli(capsys, "cutout", photo, out)
    assert code == 0 and f"-> {out}" in printed
    rgb = read_rgb(photo)
    check_cutout(read_rgba(out), rgb)
    np.testing.assert_array_equal(read_rgba(out), personseg.remove(str(photo)))


def test_cutout_reads_stdin_and_writes_stdout(photo, tmp_path):
    done = subprocess.run([sys.executable, "-m", "personseg", "cutout", "-", "-"], input=photo.read_bytes(),
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout[:8] == b"\x89PNG\r\n\x1a\n" and done.stderr == b""  # nothing but the picture
    check_cutout(read_rgba(done.stdout), read_rgb(photo))


def test_cutout_kind_writes_any_picture(photo, tmp_path, capsys):
    out = tmp_path / "mask.jpg"
    code, _, _ = run_cli(capsys, "cutout", photo, out, "--kind", "mask")
    assert code == 0 and cv2.imread(str(out), cv2.IMREAD_UNCHANGED).ndim == 2


@pytest.mark.parametrize("out,message", [
    ("out.jpg", "out.jpg: a cut-out is transparent and .jpg has no alpha"),
    ("out.txt", "out.txt: not an image file name"),
    ("in.jpg", "in.jpg: this output (OUT) is the input IN")])
def test_cutout_refuses_outputs_it_cannot_write_well(photo, tmp_path, capsys, out, message):
    before = photo.read_bytes()
    assert_error(capsys, "cutout", photo, tmp_path / out, message=message)
    assert photo.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["in.jpg"]


def test_cutout_bad_inputs_are_one_line(tmp_path, capsys):
    assert_error(capsys, "cutout", tmp_path / "missing.jpg", tmp_path / "o.png",
                 message="image file not found")
    empty = subprocess.run([sys.executable, "-m", "personseg", "cutout", "-", str(tmp_path / "o.png")],
                           input=b"", capture_output=True, text=False, timeout=300)
    assert empty.returncode == 2 and empty.stderr.decode().startswith("error: -: nothing on stdin")
    junk = subprocess.run([sys.executable, "-m", "personseg", "cutout", "-", "-"], input=b"not a photo",
                          capture_output=True, timeout=300)
    assert junk.returncode == 2 and b"stdin is not a readable image" in junk.stderr and junk.stdout == b""


def test_predict_in_out_points_at_cutout(photo, tmp_path, capsys):
    """Was: `out.png: no such file or folder` (taken as a second input)."""
    assert_error(capsys, "predict", photo, tmp_path / "out.png",
                 message=f"for one picture in a file: personseg cutout {photo} {tmp_path / 'out.png'}")
    code, printed, _ = run_cli(capsys, "predict", photo, "-o", tmp_path / "folder")
    assert code == 0 and (tmp_path / "folder" / "in_mask.png").is_file()
    assert printed.strip().endswith(f"-> {tmp_path / 'folder'}/")


def test_remove_returns_what_it_was_given(photo):
    rgb = read_rgb(photo)
    as_array = personseg.remove(rgb)
    check_cutout(as_array, rgb)
    png = personseg.remove(photo.read_bytes())
    assert isinstance(png, bytes)
    np.testing.assert_array_equal(read_rgba(png), as_array)
    pil = personseg.remove(Image.open(io.BytesIO(photo.read_bytes())))
    assert isinstance(pil, Image.Image) and pil.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(pil), as_array)
    mask = personseg.remove(rgb, kind="mask")
    assert mask.shape == rgb.shape[:2] and set(np.unique(mask)) <= {0, 255}


def test_remove_opens_the_model_once():
    from personseg.inference import remove

    assert remove.segmenter() is remove.segmenter(None)
    with pytest.raises(ValueError, match="unknown kind 'nope'"):
        personseg.remove(np.zeros((8, 8, 3), np.uint8), kind="nope")


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        personseg.cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"personseg {personseg.__version__}\n"
