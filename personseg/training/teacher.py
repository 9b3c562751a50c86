"""Distillation teachers: a stronger model's person probability for every training image,
computed once and cached as 8-bit PNGs so later epochs, runs and resumes reuse it.

The teacher is anything `Segmenter.open` opens (a model file, `pretrained:NAME` for a packaged
model, or `peer:NAME` for a published model); it sees each photo whole, letterboxed at its own
input size, and its map comes back at the photo's resolution. The data pipeline then puts the
map through exactly the same geometric augmentation as the photo and its mask
(`personseg.data.augment`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from personseg.backends.refs import parse_ref
from personseg.errors import OptionError, UserError
from personseg.files import read_rgb, write_image
from personseg.progress import progress_bar


def teacher_name(teacher: str) -> str:
    """A folder-safe name for a teacher spec (`peer:deeplabv3-mnv2`, `pretrained:unet`,
    `runs/a/model.h5`)."""
    stem = parse_ref(teacher, "teacher").label
    digest = hashlib.sha1(teacher.encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


def cache_file(cache_dir: Path, image: Path) -> Path:
    """Where the map of `image` is cached: keyed by the image's absolute path and size in bytes,
    so a replaced photo gets a new map."""
    image = Path(image).resolve()
    key = hashlib.sha1(f"{image}|{image.stat().st_size}".encode()).hexdigest()
    return Path(cache_dir) / key[:2] / f"{key}.png"


def teacher_maps(images: list[Path], teacher: str, cache_dir: str | os.PathLike,
                 batch_size: int = 4, progress: bool = True) -> dict[Path, Path]:
    """image path → cached teacher map (uint8 PNG, probability × 255), computing missing ones."""
    from personseg.inference.segmenter import Segmenter

    cache_dir = Path(cache_dir)
    unique = list(dict.fromkeys(Path(p) for p in images))
    maps = {image: cache_file(cache_dir, image) for image in unique}
    todo = [image for image, path in maps.items() if not path.is_file()]
    if todo:
        ref = parse_ref(teacher, "teacher")  # a bad name is worded for --teacher
        try:
            seg = Segmenter.open(ref)
        except UserError as exc:
            raise OptionError("teacher", teacher, f"cannot open the teacher ({exc})") from None
        bar = progress_bar(total=len(todo), desc="teacher maps", unit="img", disable=not progress)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            photos = [read_rgb(p, orientation=False) for p in chunk]  # the frame masks describe
            for image, prob in zip(chunk, seg.predict_batch(photos), strict=True):
                write_image(maps[image], np.rint(prob * 255).astype(np.uint8))  # atomic
            bar.update(len(chunk))
        bar.close()
    return maps
