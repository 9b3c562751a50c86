"""Files on disk, for every stage: image and mask reads with clear errors, which files are images,
and atomic writes (images, text, figures) that never leave a half-written file under its name.
What the disk itself says (full, read-only, leftovers of killed writers) is `personseg.disk`."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from personseg.disk import write_error
from personseg.errors import UserError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
PHOTO_EXTENSIONS = (*IMAGE_EXTENSIONS, ".gif")  # what inference reads as a photo (datasets: not GIF)


def animation_problem(data) -> str | None:
    """GIFs follow one rule wherever an image is read (named, in a folder, uploaded): a still GIF
    is an image; an animated one is refused with this reason (never its first frame alone)."""
    if bytes(data[:4]) != b"GIF8":
        return None
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(bytes(data))) as gif:
            frames = getattr(gif, "n_frames", 1)
    except Exception:  # noqa: BLE001 - unreadable: the decoder says so next
        return None
    if frames <= 1:
        return None
    return (f"an animated GIF ({frames} frames); convert it to a video (MP4) to segment every "
            "frame, or save the frame you want as PNG")


def is_image_file(path: str | os.PathLike, extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> bool:
    """True for a visible file name with an image extension (hidden files are temporaries);
    `extensions=PHOTO_EXTENSIONS` for what inference reads (GIFs too)."""
    path = Path(path)
    return path.suffix.lower() in extensions and not path.name.startswith(".")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly in `folder`, sorted by name (hidden files and folders left out)."""
    return sorted(p for p in Path(folder).iterdir() if is_image_file(p) and p.is_file())


def _decode(path: Path, flags: int, what: str, unreadable: str) -> np.ndarray:
    if not path.is_file():
        raise UserError(f"{path}: {what} file not found")
    data = np.fromfile(path, dtype=np.uint8)
    problem = animation_problem(data)
    if problem:
        raise UserError(f"{path}: {problem}")
    image = cv2.imdecode(data, flags) if data.size else None
    if image is None:
        raise UserError(f"{path}: {unreadable}")
    return image


def read_rgb(path: str | os.PathLike, orientation: bool = True) -> np.ndarray:
    """Read an image file as H×W×3 uint8 RGB; raise UserError naming the file if it can't.

    `orientation=False` keeps the pixels as stored, ignoring an EXIF rotation: the frame that
    annotations and prepared masks describe (and that the training pipeline decodes)."""
    unreadable = "not a readable image (corrupt or unsupported format)"
    flags = cv2.IMREAD_COLOR if orientation else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    image = _decode(Path(path), flags, "image", unreadable)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a single-channel mask as H×W uint8 exactly as stored; raise UserError if unreadable."""
    path = Path(path)
    mask = _decode(path, cv2.IMREAD_UNCHANGED, "mask", "not a readable mask image")
    if mask.ndim == 3:
        if mask.shape[2] == 4:
            raise UserError(f"{path}: mask has an alpha channel; expected a single-channel image")
        if not (np.array_equal(mask[..., 0], mask[..., 1]) and np.array_equal(mask[..., 0], mask[..., 2])):
            raise UserError(f"{path}: mask is a colour image; expected a single-channel image")
        mask = mask[..., 0]
    return mask


def to_rgb(image: np.ndarray) -> np.ndarray:
    """Convert grayscale (H×W or H×W×1) and RGBA (H×W×4) uint8 arrays to H×W×3 RGB."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an H×W, H×W×1, H×W×3 or H×W×4 image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[..., :3])
    return image


def as_rgb(image) -> np.ndarray:
    """Any image a user hands over → H×W×3 uint8 RGB: a file path, the file's bytes, a PIL image,
    or an H×W[×1|3|4] uint8 array. Files and bytes are decoded with their EXIF orientation."""
    if isinstance(image, (str, os.PathLike)):
        return read_rgb(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = np.frombuffer(image, np.uint8)
        problem = animation_problem(data)
        if problem:
            raise UserError(f"image bytes: {problem}")
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if decoded is None:
            raise UserError("image bytes: not a readable image (corrupt or unsupported format)")
        return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    if hasattr(image, "convert") and hasattr(image, "size"):  # a PIL image, without importing PIL
        return np.asarray(image.convert("RGB"))
    return to_rgb(image)


def temp_name_prefix(path: Path) -> str:
    """Prefix of `atomic_path`'s temporary files for `path`: hidden, and carrying the writer's
    process id so `remove_stale_temps` can tell a dead writer's leftovers from a live one's."""
    return f".{path.stem}.{os.getpid()}."


@contextmanager
def atomic_path(path: str | os.PathLike, durable: bool = False, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    A crash or Ctrl-C therefore never leaves a half-written file under the final name, and a
    full or read-only disk raises `WriteError` naming the file (the temporary file is removed).
    `durable=True` also flushes the file to the disk before the rename (checkpoints); `suffix`
    is the temporary file's ending when a writer insists on one (Keras: `.weights.h5`).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ending = path.suffix if suffix is None else suffix
        fd, tmp = tempfile.mkstemp(prefix=temp_name_prefix(path), suffix=f".tmp{ending}", dir=path.parent)
    except (FileExistsError, NotADirectoryError):
        raise UserError(f"{path}: cannot write: a parent folder is a file") from None
    except OSError as exc:
        raise (write_error(path, exc) or exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; the final file gets normal permissions
        yield tmp_path
        if durable:
            with open(tmp_path, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except Exception as exc:
        error = write_error(path, exc)
        if error is None:
            raise
        raise error from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def encode_image(image: np.ndarray, suffix: str = ".png", quality: int = 95) -> bytes:
    """An RGB, RGBA or single-channel uint8 (or uint16) image as the bytes of a `suffix` file."""
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix.lower() in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(suffix, image, params)
    if not ok:
        raise UserError(f"could not encode a {suffix} image")
    return encoded.tobytes()


def write_image(path: str | os.PathLike, image: np.ndarray, quality: int = 95) -> None:
    """Atomically write an RGB, RGBA or single-channel uint8 image (format from the extension)."""
    path = Path(path)
    try:
        encoded = encode_image(image, path.suffix, quality)
    except UserError:
        raise UserError(f"{path}: could not encode image") from None
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded)  # a short write raises OSError with its errno


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write a text file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def print_json(data: dict, out: str | os.PathLike | None = None) -> None:
    """Print `data` as indented JSON (a benchmark's report) and, given `out`, write it there atomically."""
    text = json.dumps(data, indent=2)
    print(text)
    if out:
        write_text(out, text + "\n")


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> Path:
    """Atomically write a matplotlib figure (png/jpg/pdf by extension)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path
