"""Soft and refined edges, alpha/probability outputs and background replacement, on real photos
(the package's sample photos through the packaged model) and on pictures with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from personseg.cli import main
from personseg.errors import OptionError
from personseg.files import read_mask, read_rgb, write_image
from personseg.inference.edges import alpha_matte, soft_alpha
from personseg.inference.render import (
    Look,
    blur_background,
    cutout,
    parse_background,
    render_all,
    replace_background,
)
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter


@pytest.fixture(scope="module")
def seg():
    return Segmenter.pretrained()


@pytest.fixture(scope="module")
def photo_and_probs(seg):
    photo = sample_images()["grace_hopper"]
    return photo, seg.predict(photo)


def near_outline(mask: np.ndarray, radius: int) -> np.ndarray:
    kernel = np.ones((2 * radius + 1,) * 2, np.uint8)
    grown = cv2.dilate(mask.astype(np.uint8), kernel)
    shrunk = cv2.erode(mask.astype(np.uint8), kernel)
    return (grown - shrunk).astype(bool)


def test_edge_styles_on_a_real_photo(photo_and_probs):
    photo, probs = photo_and_probs
    mask = probs >= 0.5
    assert 0.1 < mask.mean() < 0.9  # the model finds the person
    sharp = alpha_matte(photo, probs, edges="sharp")
    np.testing.assert_array_equal(sharp, mask.astype(np.float32))
    soft = alpha_matte(photo, probs, edges="soft")
    np.testing.assert_array_equal(soft >= 0.5, mask)  # same outline, blended
    partial = (soft > 0) & (soft < 1)
    assert 200 < partial.sum() < 0.05 * partial.size  # a band of partial alpha…
    assert near_outline(mask, 10)[partial].mean() > 0.9  # …along the outline
    refined = alpha_matte(photo, probs, edges="refined")
    assert refined.dtype == np.float32 and refined.min() >= 0 and refined.max() <= 1
    changed = np.abs(refined - soft) > 1 / 255
    assert 100 < changed.sum() < 0.1 * changed.size  # the photo moved the edge…
    assert near_outline(mask, 15)[changed].mean() > 0.9  # …near the outline
    assert ((refined >= 0.5) == mask).mean() > 0.98  # a refinement, not a new mask


def test_refined_edge_snaps_to_the_photo_edge():
    """The photo changes from dark to bright at column 300; the model's map (too coarse) puts its
    0.5 crossing at column 302. Refinement (window radius 4 at 640 px) moves the matte's edge
    onto the photo's edge."""
    height, width, edge = 100, 640, 300
    photo = np.full((height, width, 3), 30, np.uint8)
    photo[:, edge:] = 220
    columns = np.arange(width, dtype=np.float64)  # float32 exp overflows at the far left (and warns)
    probs = np.tile(1 / (1 + np.exp(-(columns - 302 + 0.5) / 3)), (height, 1)).astype(np.float32)

    def crossing(alpha):
        return int(np.argmax(alpha[height // 2] >= 0.5))

    assert crossing(alpha_matte(photo, probs, edges="soft")) == 302
    assert crossing(alpha_matte(photo, probs, edges="refined")) == edge


def test_soft_alpha_ramp():
    probs = np.array([[0.0, 0.39, 0.45, 0.5, 0.55, 0.61, 1.0]], np.float32)
    np.testing.assert_allclose(soft_alpha(probs, 0.5, 0.1), [[0, 0, 0.25, 0.5, 0.75, 1, 1]], atol=1e-6)


def test_cutout_keeps_partial_alpha_and_colours():
    photo = np.random.default_rng(0).integers(1, 256, (8, 10, 3), dtype=np.uint8)
    alpha = np.zeros((8, 10), np.float32)
    alpha[:, 5:] = 1.0
    alpha[:, 4] = 0.5
    rgba = cutout(photo, alpha)
    np.testing.assert_array_equal(rgba[..., 3], np.rint(alpha * 255))
    np.testing.assert_array_equal(rgba[:, 4:, :3], photo[:, 4:])
    assert not rgba[:, :4].any()


def test_replace_background_with_colours_and_an_image(tmp_path):
    photo = np.full((60, 80, 3), 200, np.uint8)
    alpha = np.zeros((60, 80), np.float32)
    alpha[20:40, 30:50] = 1.0
    alpha[20:40, 29] = 0.5
    for spec, rgb in (("#1e90ff", (30, 144, 255)), ("green", (0, 128, 0)), ("10,20,30", (10, 20, 30)),
                      ((5, 6, 7), (5, 6, 7))):
        out = replace_background(photo, alpha, spec)
        assert tuple(out[0, 0]) == rgb and tuple(out[30, 40]) == (200, 200, 200)
        # half-way pixels: within one level (OpenCV's blendLinear rounds a .5 tie down)
        np.testing.assert_allclose(out[30, 29], (np.array(rgb) + 200) / 2, atol=0.5)
    # an image twice as wide as tall covers a 60×80 photo: scaled to 60×120, centre 80 columns kept
    backdrop = np.zeros((30, 60, 3), np.uint8)
    backdrop[:, :30] = (255, 0, 0)
    backdrop[:, 30:] = (0, 0, 255)
    write_image(tmp_path / "backdrop.png", backdrop)
    out = replace_background(photo, alpha, str(tmp_path / "backdrop.png"))
    assert out.shape == (60, 80, 3)
    assert tuple(out[5, 5]) == (255, 0, 0) and tuple(out[5, 75]) == (0, 0, 255)
    assert tuple(out[5, 38]) == (255, 0, 0) and tuple(out[5, 42]) == (0, 0, 255)  # split stays centred


def test_bad_backgrounds_and_options_are_option_errors():
    for bad in ("not-a-colour", "1,2", "300,0,0", "missing.jpg"):
        with pytest.raises(OptionError, match="background"):
            parse_background(bad)
    with pytest.raises(OptionError, match="edges"):
        Look(edges="fuzzy")
    with pytest.raises(OptionError, match="blur_strength"):
        Look(blur_strength=0)


def test_blur_keeps_the_person_out_of_the_background():
    """A bright person on a dark background: the blurred background next to them stays dark
    (no halo), while a plain blur of the whole photo would brighten it."""
    photo = np.full((100, 100, 3), 20, np.uint8)
    photo[30:70, 30:70] = 250
    alpha = np.zeros((100, 100), np.float32)
    alpha[30:70, 30:70] = 1.0
    out = blur_background(photo, alpha, strength=0.05)
    assert out[50, 25].max() <= 21  # 5 px outside the person
    np.testing.assert_array_equal(out[30:70, 30:70], photo[30:70, 30:70])
    assert cv2.GaussianBlur(photo, (0, 0), 5)[50, 25].max() > 60


def test_predict_writes_alpha_probs_and_replace_from_a_real_photo(tmp_path, seg, capsys):
    photo = sample_images()["grace_hopper"]
    write_image(tmp_path / "in" / "hopper.png", photo)
    out = tmp_path / "out"
    rc = main(["predict", str(tmp_path / "in"), "--out", str(out),
               "--save", "mask,alpha,probs,replace,cutout", "--background", "0,255,0"])
    assert rc == 0, capsys.readouterr().err
    probs = seg.predict(photo)
    stored = cv2.imread(str(out / "hopper_probs.png"), cv2.IMREAD_UNCHANGED)
    assert stored.dtype == np.uint16 and stored.shape == photo.shape[:2]
    np.testing.assert_allclose(stored / 65535, probs, atol=1 / 65535)
    mask = read_mask(out / "hopper_mask.png") > 0
    np.testing.assert_array_equal(mask, probs >= 0.5)
    alpha = read_mask(out / "hopper_alpha.png")
    expected = render_all(["alpha"], photo, probs, Look(edges="refined"))["alpha"]
    np.testing.assert_array_equal(alpha, expected)
    assert ((alpha > 0) & (alpha < 255)).sum() > 200  # soft edges, not 0/255 only
    rgba = cv2.imread(str(out / "hopper_cutout.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(rgba[..., 3], alpha)
    replaced = read_rgb(out / "hopper_replace.jpg").astype(int)
    background = alpha == 0
    assert np.abs(replaced[background] - (0, 255, 0)).mean() < 8  # JPEG
    person = alpha == 255
    assert np.abs(replaced[person] - photo[person]).mean() < 8


def test_predict_flags_are_checked_before_any_work(tmp_path, capsys):
    write_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    args = ["predict", str(tmp_path / "a.png"), "--out", str(tmp_path / "out"), "--save", "replace"]
    assert main([*args, "--background", "nope"]) == 2
    assert "--background nope: not a colour" in capsys.readouterr().err
    assert main([*args, "--blur-strength", "-1"]) == 2
    assert "--blur-strength -1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
