"""Distillation teachers: a stronger model's person probability for every training image,
computed once and cached as 8-bit PNGs so later epochs, runs and resumes reuse it. Several
teachers combine by their per-pixel maximum (each cached on its own, the maximum cached too);
photos with person boxes get the combined map checked by their boxes (`checked_maps`).

The teacher is anything `Segmenter.open` opens (a model file, `pretrained:NAME` for a packaged
model, or `peer:NAME` for a published model); it sees each photo whole, letterboxed at its own
input size (the square framing, whatever the default: the cached maps were made so), and its
map comes back at the photo's resolution. The data pipeline then puts the map through exactly the
same geometric augmentation as the photo and its mask (`personseg.data.augment`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from personseg.backends.refs import parse_ref
from personseg.errors import OptionError, UserError
from personseg.files import read_mask, read_rgb, write_image
from personseg.progress import progress_bar


def teacher_name(teacher: str) -> str:
    """A folder-safe name for a teacher spec (`peer:deeplabv3-mnv2`, `pretrained:unet`,
    `runs/a/model.h5`), keyed by the spec and the contents of the file it names: a replaced
    model file (a new `weights.h5` behind `pretrained:unet`) gets new maps, not the old ones."""
    ref = parse_ref(teacher, "teacher")
    key = hashlib.sha1(teacher.encode())
    path = _teacher_file(ref)
    if path is not None:
        with open(path, "rb") as f:
            key.update(hashlib.file_digest(f, "sha1").digest())
    return f"{ref.label}-{key.hexdigest()[:8]}"


def _teacher_file(ref) -> Path | None:
    """The file a teacher reference names, when it is there (else opening it will say why)."""
    if ref.kind == "peer":
        from personseg.backends.peers import locate_peer

        return locate_peer(ref.name)
    path = ref.keras_file()
    return path if path.is_file() else None


def cache_file(cache_dir: Path, image: Path) -> Path:
    """Where the map of `image` is cached: keyed by the image's absolute path and size in bytes,
    so a replaced photo gets a new map."""
    image = Path(image).resolve()
    return _keyed(cache_dir, f"{image}|{image.stat().st_size}".encode(), ".png")


def _keyed(cache_dir: str | os.PathLike, key: bytes, suffix: str) -> Path:
    """A cache file named by the SHA-1 of `key`, in a subfolder of its first two hex digits."""
    digest = hashlib.sha1(key).hexdigest()
    return Path(cache_dir) / digest[:2] / f"{digest}{suffix}"


def teachers_name(teachers: list[str]) -> str:
    """A folder-safe name for a set of teachers (their names joined by '+')."""
    return "+".join(teacher_name(t) for t in teachers)


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
            seg = Segmenter.open(ref, framing="square")  # the framing the cached maps were made with
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


def combined_maps(images: list[Path], teachers: list[str], cache_root: str | os.PathLike,
                  progress: bool = True) -> dict[Path, Path]:
    """image path → cached map of the per-pixel maximum of `teachers` (each teacher's own maps
    cached in `cache_root/<teacher name>`; with one teacher, those)."""
    cache_root = Path(cache_root)
    each = [teacher_maps(images, t, cache_root / teacher_name(t), progress=progress) for t in teachers]
    if len(each) == 1:
        return each[0]
    folder = cache_root / f"max-{teachers_name(teachers)}"
    combined = {image: cache_file(folder, image) for image in each[0]}
    for image, path in combined.items():
        if not path.is_file():
            write_image(path, np.maximum.reduce([read_mask(maps[image]) for maps in each]))
    return combined


def checked_maps(samples: list, maps: dict[Path, Path],
                 cache_dir: str | os.PathLike) -> dict[Path, tuple[Path, Path]]:
    """Box photos (`personseg.data.box_set.BoxSample`) → (target map, ignore mask) PNGs: the
    teacher's map checked by the photo's boxes (`box_set.check_teacher_map`), cached in
    `cache_dir` under a key of the map file and the box file's contents."""
    from personseg.data.box_set import check_teacher_map, read_boxes

    out = {}
    for sample in samples:
        teacher_map = maps[sample.image]
        box_text = Path(sample.boxes).read_bytes()
        key = str(Path(teacher_map).resolve()).encode() + b"|" + box_text
        target, ignore = (_keyed(cache_dir, key, f".{part}.png") for part in ("target", "ignore"))
        if not (target.is_file() and ignore.is_file()):
            prob = read_mask(teacher_map)
            boxes = read_boxes(sample.boxes, prob.shape[1], prob.shape[0])
            target_map, ignore_mask = check_teacher_map(prob, boxes)
            write_image(ignore, ignore_mask)
            write_image(target, target_map)
        out[sample.image] = (target, ignore)
    return out
