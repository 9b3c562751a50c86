"""Pictures made from an image and its person probabilities: mask, alpha, probabilities, overlay,
cut-out, background blur and background replacement.

Pure NumPy/OpenCV on uint8 RGB, shared by `personseg predict` (images and video frames),
`personseg serve`, the notebook and the README figures, so they all look the same. All alpha
compositing is here; how the alpha's edge looks (`sharp`, `soft`, `refined`) is `edges`.

    from personseg.inference.render import Look, render_all, replace_background
    pictures = render_all(["cutout", "replace"], rgb, probs, Look(edges="refined", background="#1e90ff"))
    replace_background(rgb, alpha, "beach.jpg")      # a colour, an RGB array or an image file

Every compositing function takes a bool mask (the old 0/255 look) or a float alpha in [0, 1].
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from personseg.errors import OptionError
from personseg.inference import bounded
from personseg.inference.edges import EDGES, alpha_image, alpha_matte, probability_image

OVERLAY_COLOR = (255, 40, 120)  # magenta-pink: rare in photos, readable on skin and sky

DEFAULT_BACKGROUND = (255, 255, 255)

# a colour (RGB 0..255), an RGB image (any size: it is scaled to cover the photo) or either spelt
# as text: a colour name, #rrggbb, "R,G,B" or an image file
Background = tuple[int, int, int] | np.ndarray | str | os.PathLike


def parse_colour(text: str) -> tuple[int, int, int] | None:
    """A colour name (`white`, `tab:green`), `#rrggbb` or `R,G,B` (0–255) → RGB; None when the
    text is none of these (OptionError for R,G,B out of range)."""
    from matplotlib.colors import to_rgb

    parts = str(text).strip().split(",")
    try:
        if len(parts) == 3:
            return parse_background(tuple(int(p) for p in parts))
        return tuple(int(round(c * 255)) for c in to_rgb(str(text).strip()))
    except ValueError:
        return None


def parse_background(value: Background) -> tuple[int, int, int] | np.ndarray:
    """A colour (`parse_colour`), an image file, an RGB tuple or an RGB array → an RGB tuple or a
    uint8 H×W×3 array (OptionError otherwise)."""
    from personseg.files import read_rgb

    if isinstance(value, np.ndarray):
        if value.ndim != 3 or value.shape[2] != 3 or value.dtype != np.uint8:
            raise OptionError("background", f"array{value.shape}", "must be a uint8 H×W×3 RGB image")
        return value
    if isinstance(value, tuple | list):
        if len(value) != 3 or not all(0 <= int(c) <= 255 for c in value):
            raise OptionError("background", value, "must be three values 0-255 (R, G, B)")
        return tuple(int(c) for c in value)
    if isinstance(value, os.PathLike):
        return read_rgb(value)
    text = str(value).strip()
    colour = parse_colour(text)
    if colour is not None:
        return colour
    if Path(text).is_file():
        return read_rgb(text)
    raise OptionError("background", value, "not a colour (name, #rrggbb, R,G,B) or an existing image file")


@dataclass(frozen=True, eq=False)
class Look:
    """How pictures are made from probabilities: the mask's threshold, the alpha's edge style,
    the replacement background and the blur strength (sigma = strength × the longer side)."""

    threshold: float = 0.5
    edges: str = "refined"
    background: Background = DEFAULT_BACKGROUND
    blur_strength: float = 0.03

    def __post_init__(self):
        if not 0.0 <= self.threshold <= 1.0:
            raise OptionError("threshold", self.threshold, "must be between 0 and 1")
        if self.edges not in EDGES:
            raise OptionError("edges", self.edges, f"choose one of {'|'.join(EDGES)}")
        if not 0.0 < self.blur_strength <= 0.5:
            raise OptionError("blur_strength", self.blur_strength, "must be above 0 and at most 0.5")
        object.__setattr__(self, "background", parse_background(self.background))


def mask_image(mask: np.ndarray) -> np.ndarray:
    """bool H×W → uint8 H×W 0/255 (what `_mask.png` files store)."""
    return np.where(np.asarray(mask, bool), 255, 0).astype(np.uint8)


def overlay(rgb: np.ndarray, mask: np.ndarray, color=OVERLAY_COLOR, alpha: float = 0.5) -> np.ndarray:
    """Tint the person pixels with `color` and outline them, so misses and spills are easy to see."""
    mask = np.asarray(mask) >= 0.5 if np.asarray(mask).dtype != bool else np.asarray(mask)
    out = bounded.composite(rgb, ~mask, np.asarray(color, np.float32), opacity=alpha)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    thickness = max(1, round(max(mask.shape) / 300))
    cv2.drawContours(out, contours, -1, tuple(int(c) for c in color), thickness, lineType=cv2.LINE_AA)
    return out


def cutout(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """RGBA image: the photo's colours with `alpha` (bool mask or float in [0, 1]) as its alpha
    channel; fully transparent pixels are black."""
    rgba = np.empty((*rgb.shape[:2], 4), np.uint8)
    for rows in bounded.strips(rgb.shape[0]):  # a strip at a time: flat memory on big photos
        a = cv2.convertScaleAbs(np.clip(np.asarray(alpha[rows], np.float32), 0, 1), alpha=255)
        rgba[rows, :, :3] = rgb[rows] * (a > 0)[..., None]
        rgba[rows, :, 3] = a
    return rgba


def composite(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """rgb × alpha + background × (1 − alpha), as uint8 RGB (background: H×W×3 or a colour)."""
    return bounded.composite(rgb, alpha, background)


def flatten(rgba: np.ndarray, background=(0, 0, 0)) -> np.ndarray:
    """Composite an RGBA image onto a solid colour or an RGB image of the same size (video and
    JPEG have no alpha channel; the README shows cut-outs on a checkerboard)."""
    return composite(rgba[..., :3], rgba[..., 3].astype(np.float32) / 255.0, background)


def fit_background(background: Background, shape: tuple[int, ...]) -> np.ndarray:
    """The background as an H×W×3 uint8 image: a colour filled in, an image scaled to cover
    H×W (aspect ratio kept) and centre-cropped."""
    height, width = shape[:2]
    background = parse_background(background)
    if not isinstance(background, np.ndarray):
        return np.broadcast_to(np.asarray(background, np.uint8), (height, width, 3))
    bh, bw = background.shape[:2]
    scale = max(height / bh, width / bw)
    size = (max(width, round(bw * scale)), max(height, round(bh * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(background, size, interpolation=interpolation)
    top, left = (size[1] - height) // 2, (size[0] - width) // 2
    return resized[top : top + height, left : left + width]


def replace_background(rgb: np.ndarray, alpha: np.ndarray, background: Background = DEFAULT_BACKGROUND
                       ) -> np.ndarray:
    """The person (bool mask or float alpha) on a new background: a colour (RGB tuple, name,
    #rrggbb), an RGB image or an image file, scaled to cover the photo."""
    return composite(rgb, alpha, fit_background(background, rgb.shape))


def blur_background(rgb: np.ndarray, alpha: np.ndarray, strength: float = 0.03) -> np.ndarray:
    """Portrait-mode look: the background Gaussian-blurred (sigma = strength × longer side).

    The blur is normalised over the background only, so the person's colours do not bleed into
    a halo around them; it runs at a bounded working resolution (`bounded.blurred_background`).
    A bool mask's edge is feathered by a couple of pixels; a float alpha (from
    `edges.alpha_matte`) is used as it is."""
    longer = max(rgb.shape[:2])
    sigma = max(1.0, strength * longer)
    a = np.asarray(alpha, np.float32)
    if np.asarray(alpha).dtype == bool:
        a = cv2.GaussianBlur(a, (0, 0), max(0.5, longer / 500))
    return composite(rgb, a, bounded.blurred_background(rgb, a, sigma))


@dataclass
class Frame:
    """One photo, its probabilities and the look: what every kind is made from. The mask and the
    alpha matte are computed when a kind first asks, once."""

    rgb: np.ndarray
    prob: np.ndarray
    look: Look

    @cached_property
    def mask(self) -> np.ndarray:
        return self.prob if self.prob.dtype == bool else self.prob >= self.look.threshold

    @cached_property
    def alpha(self) -> np.ndarray:
        return alpha_matte(self.rgb, self.prob, self.look.threshold, self.look.edges)


@dataclass(frozen=True)
class Kind:
    """An output picture: the file extension of its still image and how a `Frame` makes it."""

    suffix: str
    make: Callable[[Frame], np.ndarray]


# The output kinds, by name: `predict --save`, `cutout --kind`, serve's `kind=` and
# `personseg.remove(kind=)` all read this registry; a new kind is one entry here.
KINDS: dict[str, Kind] = {
    "mask": Kind(".png", lambda f: mask_image(f.mask)),  # H×W 0/255
    "alpha": Kind(".png", lambda f: alpha_image(f.alpha)),  # H×W uint8
    "probs": Kind(".png", lambda f: probability_image(f.prob)),  # H×W uint16, /65535
    "overlay": Kind(".jpg", lambda f: overlay(f.rgb, f.mask)),
    "cutout": Kind(".png", lambda f: cutout(f.rgb, f.alpha)),  # RGBA
    "blur": Kind(".jpg", lambda f: blur_background(f.rgb, f.alpha, f.look.blur_strength)),
    "replace": Kind(".jpg", lambda f: replace_background(f.rgb, f.alpha, f.look.background)),
}


def render_all(kinds: Iterable[str], rgb: np.ndarray, prob: np.ndarray, look: Look | None = None
               ) -> dict[str, np.ndarray]:
    """The named pictures (`KINDS`) of one photo from its probabilities (a bool mask is read as
    0/1); the mask and the alpha matte are computed once and shared."""
    kinds = list(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown output kind {unknown[0]!r}; choose from {', '.join(KINDS)}")
    frame = Frame(rgb, np.asarray(prob), look or Look())
    return {kind: KINDS[kind].make(frame) for kind in kinds}


def render(kind: str, rgb: np.ndarray, prob: np.ndarray, look: Look | None = None) -> np.ndarray:
    """One output picture by name (see `render_all`)."""
    return render_all([kind], rgb, prob, look)[kind]
