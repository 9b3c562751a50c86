"""Reading a source photo and writing one output image/mask pair (what both prepare commands do per image).

Annotations refer to the pixels as stored, so sources are decoded without applying EXIF
orientation. An unscaled JPEG is copied byte for byte (no second lossy encode) unless it carries
an EXIF rotation, which readers would apply to the image but not to the mask; everything else is
encoded once as a JPEG.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

from personseg.data.runner import Skipped
from personseg.errors import OptionError
from personseg.files import atomic_path, write_image

JPEG_MAGIC = b"\xff\xd8\xff"
JPEG_QUALITY = 95
EXIF_ORIENTATION = 0x0112


def read_source(path: Path) -> tuple[np.ndarray, bytes, bool]:
    """RGB pixels as stored, the file's bytes, and whether those bytes can be copied unchanged.

    Raises `Skipped` for a missing or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise Skipped("image file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Skipped(f"cannot read the image file ({exc.strerror or exc})") from None
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags) if data else None
    if image is None:
        raise Skipped("image file is not readable (corrupt or unsupported format)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), data, data.startswith(JPEG_MAGIC) and _upright(data)


def _upright(data: bytes) -> bool:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.getexif().get(EXIF_ORIENTATION, 1) == 1
    except Exception:  # unreadable EXIF: re-encode, which drops it
        return False


def check_plan_options(max_side: int | None, limit: int | None) -> None:
    """The options both prepare commands take: `max_side` ≥ 1 and `limit` ≥ 0 when given."""
    if max_side is not None and max_side < 1:
        raise OptionError("max_side", max_side, "must be at least 1")
    if limit is not None and limit < 0:
        raise OptionError("limit", limit, "must not be negative")


def fit(image: np.ndarray, mask: np.ndarray, max_side: int | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Downscale image (area) and mask (nearest neighbour, stays 0/255) so the longer side is at
    most `max_side`; returns them and whether anything changed."""
    height, width = mask.shape
    if not max_side or max(height, width) <= max_side:
        return image, mask, False
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return (cv2.resize(image, size, interpolation=cv2.INTER_AREA),
            cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST), True)


def write_pair(image_out: Path, mask_out: Path, image: np.ndarray, mask: np.ndarray,
               source: bytes | None) -> None:
    """Write the image (the `source` bytes when given, else a JPEG encode) then the 0/255 PNG
    mask, each atomically; the pair counts as done only once the mask exists."""
    if source is not None:
        with atomic_path(image_out) as tmp:
            tmp.write_bytes(source)
    else:
        write_image(image_out, image, quality=JPEG_QUALITY)
    write_image(mask_out, mask)
