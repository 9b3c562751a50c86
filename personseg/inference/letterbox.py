"""Letterboxing: fit an image into a model's input canvas without distorting it, and undo that.

Two framings (`FRAMINGS`: the one list; the CLI's `--framing` choices, `FRAMING_CHOICES`, add `auto`):
- `square`: the size×size canvas every model takes; a 2:3 portrait fills two thirds of it. Training
  validation uses this geometry too (TF ops in `personseg.data.augment`).
- `fit`: a canvas shaped like the photo, sides multiples of 32 (`STRIDE`), with at most size²
  pixels (the square's cost): the photo at the largest scale that budget allows. A 2:3 portrait
  at 224 gets a canvas 192 wide and 256 tall instead of 149×224 (W×H) inside 224×224. Needs a
  runtime that takes any H×W (`FIT_RUNTIMES`).
`auto` (`FRAMING_CHOICES`' first, the default everywhere) is the framing the model file records
(`personseg.backends.metadata`; `square` when it records none, and on a runtime that takes only
its square). Padding is centred and black.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import cv2
import numpy as np

FRAMINGS = ("square", "fit")
AUTO = "auto"  # the model file's own framing, where the runtime can run it
FRAMING_CHOICES = (AUTO, *FRAMINGS)  # what users may ask for
FIT_RUNTIMES = "Keras, or an ONNX, TFLite or SavedModel export made with --dynamic"  # what `fit` needs
STRIDE = 32  # the models' total downsampling: a canvas side must be a multiple of it

Canvas = tuple[int, int]  # (height, width) of a model input


@dataclass(frozen=True)
class Letterbox:
    """Where an H×W image sits inside a canvas_height×canvas_width canvas after scaling."""

    height: int
    width: int
    canvas_height: int
    canvas_width: int
    new_height: int
    new_width: int
    top: int
    left: int


def fit_canvas(height: int, width: int, size: int) -> Canvas:
    """The canvas (multiples of `STRIDE`, at most size² pixels) that holds an H×W photo at the
    largest scale; among equals the smaller one. A square photo gets size×size when size is a
    multiple of STRIDE (model sizes are)."""
    sides = range(STRIDE, size * size // STRIDE + 1, STRIDE)
    best: tuple[float, int, Canvas] | None = None
    for canvas_h in sides:
        canvas_w = size * size // canvas_h // STRIDE * STRIDE
        if canvas_w < STRIDE:
            break
        # no wider than the photo needs at this height
        canvas_w = min(canvas_w, math.ceil(width * canvas_h / height / STRIDE) * STRIDE)
        scale = min(canvas_h / height, canvas_w / width)
        key = (scale, -canvas_h * canvas_w, (canvas_h, canvas_w))
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2]


def canvas_for(height: int, width: int, size: int, framing: str) -> Canvas:
    """The model input an H×W photo gets under `framing` (see FRAMINGS) at `size`."""
    return fit_canvas(height, width, size) if framing == "fit" else (size, size)


def letterbox_geometry(height: int, width: int, canvas: int | Canvas) -> Letterbox:
    """Scale the photo to fit the canvas (a side `size` square, or (H, W)), rounding, at least
    1 px, and centre the result."""
    canvas_h, canvas_w = (canvas, canvas) if isinstance(canvas, numbers.Integral) else canvas
    scale = min(canvas_h / height, canvas_w / width)
    new_h = min(canvas_h, max(1, round(height * scale)))
    new_w = min(canvas_w, max(1, round(width * scale)))
    return Letterbox(height, width, canvas_h, canvas_w, new_h, new_w, (canvas_h - new_h) // 2,
                     (canvas_w - new_w) // 2)


def letterbox_image(image: np.ndarray, canvas: int | Canvas) -> tuple[np.ndarray, Letterbox]:
    """H×W×C uint8 → a canvas of C channels, uint8 (area filter when shrinking, bilinear when
    growing); `canvas` is a square's side or (H, W)."""
    geo = letterbox_geometry(image.shape[0], image.shape[1], canvas)
    shrinking = geo.new_height < geo.height or geo.new_width < geo.width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(image, (geo.new_width, geo.new_height), interpolation=interpolation)
    if resized.ndim == 2:
        resized = resized[..., None]
    canvas = np.zeros((geo.canvas_height, geo.canvas_width, image.shape[2]), dtype=image.dtype)
    canvas[geo.top : geo.top + geo.new_height, geo.left : geo.left + geo.new_width] = resized
    return canvas, geo


def letterbox_batch(images: list[np.ndarray], canvas: int | Canvas) -> tuple[np.ndarray, list[Letterbox]]:
    """Letterbox each RGB image into one canvas (a square's side or (H, W)); float32 N×H×W×3
    and each image's geometry."""
    canvases, geos = [], []
    for image in images:
        canvas_image, geo = letterbox_image(image, canvas)
        canvases.append(canvas_image)
        geos.append(geo)
    return np.stack(canvases).astype(np.float32), geos


def unletterbox(prob: np.ndarray, geo: Letterbox) -> np.ndarray:
    """A canvas-sized float map → the original H×W (crop the padding, bilinear resize back)."""
    crop = prob[geo.top : geo.top + geo.new_height, geo.left : geo.left + geo.new_width]
    crop = np.ascontiguousarray(crop, dtype=np.float32)
    if crop.shape[:2] == (geo.height, geo.width):
        return crop
    return cv2.resize(crop, (geo.width, geo.height), interpolation=cv2.INTER_LINEAR)
