"""Do the training files decode? Checked before training starts, so a truncated photo is named
instead of crashing TensorFlow mid-epoch (`personseg train` would otherwise die deep in tf.data).

The check is cheap: a truncated JPEG or PNG lacks its end marker, so only files without one, and
files of other formats, are decoded in full, with the same TensorFlow ops the pipeline uses. If a
file still fails during training, `decode_failure` scans every file in full and names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from personseg.data.dataset_layout import Pair
from personseg.errors import UserError

JPEG_START, JPEG_END = b"\xff\xd8\xff", b"\xff\xd9"
PNG_START, PNG_END = b"\x89PNG", b"IEND\xaeB`\x82"


def _has_end_marker(path: Path) -> bool:
    """True for a JPEG or PNG that ends as a complete one does (others: decode to know)."""
    with open(path, "rb") as f:
        head = f.read(8)
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 64))
        tail = f.read()
    if head.startswith(JPEG_START):
        return tail.rstrip(b"\x00\r\n ").endswith(JPEG_END)
    return head.startswith(PNG_START) and tail.endswith(PNG_END)


def decode_problem(path: Path, mask: bool = False) -> str | None:
    """Why TensorFlow cannot decode `path` as the training pipeline does, or None if it can."""
    import tensorflow as tf

    try:
        data = tf.io.read_file(str(path))
        if mask:
            tf.io.decode_png(data, channels=1)
        else:
            tf.io.decode_image(data, channels=3, expand_animations=False)
    except tf.errors.OpError as exc:
        return (exc.message or type(exc).__name__).strip().splitlines()[-1]
    return None


def _files(pairs: Iterable[Pair]) -> list[tuple[Path, bool]]:
    """(path, is a mask) of every file of `pairs`; photos with boxes (no mask) give their photo."""
    return [(path, mask) for pair in pairs
            for path, mask in ((pair.image, False), (getattr(pair, "mask", None), True)) if path]


def _error(bad: list[tuple[Path, str]], after: str) -> UserError:
    path, problem = bad[0]
    more = f"; {len(bad) - 1} more: " + ", ".join(p.name for p, _ in bad[1:6]) if len(bad) > 1 else ""
    return UserError(f"{path}: cannot be decoded, truncated or corrupt ({problem}){more}; {after}")


def check_decodable(pairs: Iterable[Pair]) -> None:
    """UserError naming the files TensorFlow cannot decode (full decode only where suspicious)."""
    bad = []
    for path, mask in _files(pairs):
        try:
            complete = _has_end_marker(path)
        except OSError as exc:
            bad.append((path, exc.strerror or str(exc)))
            continue
        if not complete and (problem := decode_problem(path, mask)):
            bad.append((path, problem))
    if bad:
        raise _error(bad, "fix or remove it (and its pair) before training")


def decode_failure(roots: list) -> UserError | None:
    """After TensorFlow failed on some file mid-training: decode every file and name the bad ones
    (None if all decode, so the original error stands)."""
    bad = [(path, problem) for path, mask in _files(p for root in roots for p in root.pairs)
           if (problem := decode_problem(path, mask))]
    return _error(bad, "fix or remove it, then continue with --resume") if bad else None
