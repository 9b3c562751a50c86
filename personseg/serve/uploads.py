"""What `personseg serve` accepts: uploaded bytes → an RGB photo, or a 4xx `Rejected` saying why.

The pixel count is read from the file's header (Pillow, lazily) before the image is decoded, so
a small file that would decode to gigapixels is refused without allocating it.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from personseg.errors import UserError
from personseg.files import as_rgb

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000


class Rejected(Exception):
    """An upload the server will not process: an HTTP status (4xx) and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def decode_upload(data: bytes, name: str = "upload", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An uploaded file's bytes → uint8 H×W×3 RGB (EXIF orientation applied), or `Rejected`."""
    from PIL import Image

    if not data:
        raise Rejected(400, f"{name}: the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise Rejected(413, f"{name}: the image has too many pixels (at most {max_pixels:,})") from None
    except Exception:
        raise Rejected(400, f"{name}: not an image (or a corrupt one); send a JPEG, PNG, WebP, "
                            "BMP or TIFF photo") from None
    if width * height > max_pixels:
        raise Rejected(413, f"{name}: {width}×{height} is too many pixels (at most {max_pixels:,})")
    try:
        return as_rgb(data)
    except UserError as exc:  # unreadable, or an animated GIF (files.animation_problem)
        raise Rejected(400, f"{name}: {str(exc).removeprefix('image bytes: ')}") from None
