"""Letterboxing: fit an image into a square without distorting it, and undo that exactly.

One geometry for training-time validation (TF ops in `personseg.data.augment`) and for inference
(OpenCV here), so a model sees the same framing everywhere. Padding is centred and black.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Letterbox:
    """Where an H×W image sits inside a `size`×`size` canvas after scaling by `scale`."""

    height: int
    width: int
    size: int
    new_height: int
    new_width: int
    top: int
    left: int


def letterbox_geometry(height: int, width: int, size: int) -> Letterbox:
    """Scale so the longer side equals `size` (rounding, at least 1 px) and centre the result."""
    scale = size / max(height, width)
    new_h = min(size, max(1, round(height * scale)))
    new_w = min(size, max(1, round(width * scale)))
    return Letterbox(height, width, size, new_h, new_w, (size - new_h) // 2, (size - new_w) // 2)


def letterbox_image(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """H×W×C uint8 → size×size×C uint8 canvas (area filter when shrinking, bilinear when growing)."""
    geo = letterbox_geometry(image.shape[0], image.shape[1], size)
    shrinking = geo.new_height < geo.height or geo.new_width < geo.width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(image, (geo.new_width, geo.new_height), interpolation=interpolation)
    if resized.ndim == 2:
        resized = resized[..., None]
    canvas = np.zeros((size, size, image.shape[2]), dtype=image.dtype)
    canvas[geo.top : geo.top + geo.new_height, geo.left : geo.left + geo.new_width] = resized
    return canvas, geo


def letterbox_batch(images: list[np.ndarray], size: int) -> tuple[np.ndarray, list[Letterbox]]:
    """Letterbox each RGB image to size×size; float32 N×size×size×3 and each image's geometry."""
    canvases, geos = [], []
    for image in images:
        canvas, geo = letterbox_image(image, size)
        canvases.append(canvas)
        geos.append(geo)
    return np.stack(canvases).astype(np.float32), geos


def unletterbox(prob: np.ndarray, geo: Letterbox) -> np.ndarray:
    """size×size float map → the original H×W (crop the padding, bilinear resize back)."""
    crop = prob[geo.top : geo.top + geo.new_height, geo.left : geo.left + geo.new_width]
    crop = np.ascontiguousarray(crop, dtype=np.float32)
    if crop.shape[:2] == (geo.height, geo.width):
        return crop
    return cv2.resize(crop, (geo.width, geo.height), interpolation=cv2.INTER_LINEAR)
