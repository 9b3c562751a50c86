"""Bounded cost on big photos: the working resolutions the expensive effects run at, and
full-resolution arithmetic done in row strips, so time and memory grow at most linearly with a
photo's pixels (a 48 MP phone photo: seconds and well under 2 GB for every output).

- The background blur runs where its sigma is `BLUR_WORK_SIGMA` pixels (a Gaussian of sigma
  240 px on 8000×6000 becomes one of 6 px on 267×200) and is upsampled: a blurred background
  has no detail a smaller copy would lose.
- The refined edge's guided filter runs on at most `GUIDE_WORK_PIXELS` (still 6× finer than the
  model's 256 px input) and its alpha is upsampled.
- Compositing, cut-outs and overlays work `STRIP_ROWS` rows at a time: float temporaries of a
  strip, never of the whole photo.

`benchmarks/bench_big_photo.py` measures it (`benchmarks/results/big_photo.json`).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

BLUR_WORK_SIGMA = 6.0
GUIDE_WORK_PIXELS = 2_000_000
STRIP_ROWS = 256


def strips(height: int, rows: int = STRIP_ROWS) -> Iterator[slice]:
    """Row slices covering 0..height, `rows` at a time."""
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))


def scaled_shape(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    """(height, width) of `shape` times `scale`, at least 1×1."""
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """`image` at (height, width): area filter when shrinking, bilinear when growing."""
    if image.shape[:2] == tuple(shape):
        return image
    shrinking = shape[0] * shape[1] < image.shape[0] * image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = cv2.resize(image, (shape[1], shape[0]), interpolation=interpolation)
    return out[..., None] if image.ndim == 3 and out.ndim == 2 else out


def guide_scale(shape: tuple[int, ...]) -> float:
    """The scale the guided filter runs at: 1, or less so it sees at most GUIDE_WORK_PIXELS."""
    pixels = shape[0] * shape[1]
    return min(1.0, (GUIDE_WORK_PIXELS / pixels) ** 0.5)


def blurred_background(rgb: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """uint8 H×W×3: the background (where `alpha` < 1) Gaussian-blurred with `sigma`, normalised
    over the background only so the person's colours do not bleed into it; computed where sigma
    is BLUR_WORK_SIGMA pixels and upsampled."""
    height, width = rgb.shape[:2]
    scale = min(1.0, BLUR_WORK_SIGMA / sigma)
    small = scaled_shape(rgb.shape, scale)
    premultiplied = np.empty_like(rgb)  # rgb × (1 − alpha), rounded: a strip at a time
    black = np.zeros((min(STRIP_ROWS, height), width, 3), np.uint8)
    for rows in strips(height):
        a = np.asarray(alpha[rows], np.float32)
        premultiplied[rows] = cv2.blendLinear(rgb[rows], black[: a.shape[0]], 1.0 - a, a)
    background = 1.0 - resize(np.asarray(alpha, np.float32), small)
    spread_src = resize(premultiplied, small).astype(np.float32)
    del premultiplied
    plain_src = resize(rgb, small).astype(np.float32)
    s = sigma * small[1] / width
    weight = cv2.GaussianBlur(background.astype(np.float32), (0, 0), s)[..., None]
    spread = cv2.GaussianBlur(spread_src, (0, 0), s)
    plain = cv2.GaussianBlur(plain_src, (0, 0), s)
    blurred = np.where(weight > 1e-3, spread / np.maximum(weight, 1e-3), plain)
    blurred = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
    return resize(blurred, (height, width))


def composite(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray, opacity: float = 1.0
              ) -> np.ndarray:
    """rgb × a + background × (1 − a) as uint8 RGB, a = 1 − opacity × (1 − alpha), a strip at a
    time with OpenCV's `blendLinear` (background: H×W×3, or a colour). `alpha` may be a bool mask."""
    rgb = np.asarray(rgb, np.uint8)
    background = np.asarray(background)
    if background.ndim == 3 and background.strides[:2] == (0, 0):  # a colour broadcast to H×W
        background = background[0, 0]
    colour = None
    if background.ndim != 3:  # a colour: one strip of it, reused
        colour = np.empty((min(STRIP_ROWS, rgb.shape[0]), rgb.shape[1], 3), np.uint8)
        colour[:] = np.clip(np.rint(background.astype(np.float32)), 0, 255).astype(np.uint8)
    out = np.empty(rgb.shape[:2] + (3,), np.uint8)
    for rows in strips(rgb.shape[0]):
        a = np.asarray(alpha[rows], np.float32)
        if opacity != 1.0:
            a = 1.0 - np.float32(opacity) * (1.0 - a)
        back = colour[: a.shape[0]] if colour is not None else np.ascontiguousarray(background[rows])
        out[rows] = cv2.blendLinear(np.ascontiguousarray(rgb[rows]), back, a, 1.0 - a)
    return out
