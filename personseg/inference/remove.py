"""`personseg.remove(image)`: the one-call cut-out, as rembg's `remove()` — a photo in, the people
on a transparent background out (RGBA, refined edges), or any other picture `render` makes.

The model (the packaged U-Net on ONNX Runtime unless told otherwise) is opened on the first call
and kept, so a loop over many photos loads it once. What comes back matches what went in: PNG
bytes for bytes, a PIL image for a PIL image, an H×W×4 uint8 array for an array or a file path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.files import as_rgb, encode_image
from personseg.inference.render import KINDS, Look, render
from personseg.inference.segmenter import ImageInput, Segmenter

_OPENED: dict[str, Segmenter] = {}  # model spec -> its Segmenter, opened once per process


def segmenter(model: str | Path | Segmenter | None = None) -> Segmenter:
    """The Segmenter for `model` (a Segmenter, `pretrained:NAME`, `peer:NAME`, a model file, or
    None: the packaged default), opened once and kept."""
    if isinstance(model, Segmenter):
        return model
    key = str(model) if model is not None else "pretrained:"
    if key not in _OPENED:
        _OPENED[key] = Segmenter.open(model)
    return _OPENED[key]


def remove(image: ImageInput, *, model: str | Path | Segmenter | None = None, kind: str = "cutout",
           threshold: float = 0.5, edges: str = "refined", background="white", blur_strength: float = 0.03):
    """The people of `image` cut out onto transparency (`kind="cutout"`, RGBA), or another picture
    by name (`render.KINDS`: mask, alpha, probs, overlay, blur, replace) with the same look options
    as `personseg predict`. Returns the type it was given: bytes → PNG bytes, PIL image → PIL
    image, anything else (array, path) → a uint8 array (uint16 for probs)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    look = Look(threshold, edges, background, blur_strength)
    rgb = as_rgb(image)
    picture = render(kind, rgb, segmenter(model).predict(rgb), look)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return encode_image(picture, ".png")
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL in, PIL out
        from PIL import Image

        return Image.fromarray(np.ascontiguousarray(picture))
    return picture
