"""Pictures made from an image and its person mask: overlay, cutout, background blur.

Pure NumPy/OpenCV on uint8 RGB, shared by `personseg predict` (images and video frames), the
notebook and the README figures, so they all look the same. All alpha compositing is here.
"""

from __future__ import annotations

import cv2
import numpy as np

OVERLAY_COLOR = (255, 40, 120)  # magenta-pink: rare in photos, readable on skin and sky

# kind -> file extension of the still-image output
KINDS: dict[str, str] = {"mask": ".png", "overlay": ".jpg", "cutout": ".png", "blur": ".jpg"}


def mask_image(mask: np.ndarray) -> np.ndarray:
    """bool H×W → uint8 H×W 0/255 (what `_mask.png` files store)."""
    return np.where(np.asarray(mask, bool), 255, 0).astype(np.uint8)


def overlay(rgb: np.ndarray, mask: np.ndarray, color=OVERLAY_COLOR, alpha: float = 0.5) -> np.ndarray:
    """Tint the person pixels with `color` and outline them, so misses and spills are easy to see."""
    mask = np.asarray(mask, bool)
    out = rgb.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(color, np.float32)
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, round(max(mask.shape) / 300))
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in color), thickness, lineType=cv2.LINE_AA)
    return out


def cutout(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """RGBA image: the person opaque, everything else fully transparent (and black)."""
    mask = np.asarray(mask, bool)
    rgba = np.zeros((*rgb.shape[:2], 4), np.uint8)
    rgba[mask, :3] = rgb[mask]
    rgba[..., 3] = mask_image(mask)
    return rgba


def flatten(rgba: np.ndarray, background=(0, 0, 0)) -> np.ndarray:
    """Composite an RGBA image onto a solid colour or an RGB image of the same size (video and
    JPEG have no alpha channel; the README shows cut-outs on a checkerboard)."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    out = rgba[..., :3].astype(np.float32) * alpha + np.asarray(background, np.float32) * (1 - alpha)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def blur_background(rgb: np.ndarray, mask: np.ndarray, strength: float = 0.03) -> np.ndarray:
    """Portrait-mode look: Gaussian-blur the background (sigma = strength × longer side).

    The mask edge is feathered by a couple of pixels so the sharp person blends into the blur.
    """
    longer = max(rgb.shape[:2])
    sigma = max(1.0, strength * longer)
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
    alpha = np.asarray(mask, np.float32)
    feather = max(0.5, longer / 500)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather)[..., None]
    out = rgb.astype(np.float32) * alpha + blurred.astype(np.float32) * (1 - alpha)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def render(kind: str, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One output picture by name: mask (H×W), overlay (RGB), cutout (RGBA) or blur (RGB)."""
    if kind == "mask":
        return mask_image(mask)
    if kind == "overlay":
        return overlay(rgb, mask)
    if kind == "cutout":
        return cutout(rgb, mask)
    if kind == "blur":
        return blur_background(rgb, mask)
    raise ValueError(f"unknown output kind {kind!r}; choose from {', '.join(KINDS)}")
