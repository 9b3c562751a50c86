"""The prepared dataset on disk: `ROOT/images/<split>/<stem>.jpg` + `ROOT/masks/<split>/<stem>.png`
and `ROOT/manifest_<split>.csv`. Every path of that layout is built here and nowhere else.

A root without split folders (`ROOT/images/*.jpg`, `ROOT/masks/*.png`, e.g. an image/mask set
as downloaded) is read the same way with `split=None`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from personseg.errors import OptionError, UserError
from personseg.files import list_images


@dataclass(frozen=True)
class Pair:
    image: Path
    mask: Path

    @property
    def stem(self) -> str:
        return self.image.stem


def split_dirs(root: str | Path, split: str | None) -> tuple[Path, Path]:
    """Image and mask folders of `root` for `split` (flat folders when split is None)."""
    root = Path(root)
    if split is None:
        return root / "images", root / "masks"
    return root / "images" / split, root / "masks" / split


def pair_paths(root: str | Path, split: str, stem: str) -> Pair:
    """Where the prepared image and mask of `stem` go (JPEG photo, PNG mask)."""
    image_dir, mask_dir = split_dirs(root, split)
    return Pair(image_dir / f"{stem}.jpg", mask_dir / f"{stem}.png")


def manifest_path(root: str | Path, split: str) -> Path:
    return Path(root) / f"manifest_{split}.csv"


def held_out(stem: str, every: int) -> bool:
    """The fixed hold-out rule: 1 in `every` pairs, chosen by the SHA-1 of the file stem (so the
    same files are held out on every machine, whatever else is in the folder)."""
    return int(hashlib.sha1(stem.encode()).hexdigest()[:8], 16) % every == 0


def check_split(split: str) -> str:
    """A split is a plain folder name (no path separators, no leading dot)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", split or ""):
        raise OptionError("split", split, "use a plain folder name such as train or val")
    return split


def resolve_split(root: str | Path, split: str | None, default: str | None) -> str | None:
    """`split` if given; else `default` when the root has that split folder; else None (flat)."""
    if split is None and default and (Path(root) / "images" / default).is_dir():
        return default
    return split


def find_pairs(root: str | Path, split: str | None = None) -> list[Pair]:
    """Sorted image/mask pairs of a prepared root; UserError for a missing/empty root or orphans.

    With `split=None`, a root that has `images/<split>` folders is an error that lists them,
    so a wrong guess never silently trains on nothing.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: dataset root not found")
    image_dir, mask_dir = split_dirs(root, split)
    if not image_dir.is_dir():
        available = sorted(p.name for p in (root / "images").glob("*") if p.is_dir())
        hint = f" (available splits: {', '.join(available)})" if available else ""
        raise UserError(f"{root}: no {image_dir.relative_to(root)}/ folder{hint}")
    if not mask_dir.is_dir():
        raise UserError(f"{root}: no {mask_dir.relative_to(root)}/ folder next to the images")
    images = list_images(image_dir)
    if not images:
        raise UserError(f"{image_dir}: no images found")
    pairs, missing = [], []
    for image in images:
        mask = mask_dir / f"{image.stem}.png"
        if mask.is_file():
            pairs.append(Pair(image, mask))
        else:
            missing.append(image.name)
    if missing:
        listed = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserError(f"{mask_dir}: no mask for {len(missing)} image(s): {listed}")
    return pairs


def check_sizes(pairs: list[Pair]) -> None:
    """Raise UserError naming the first pair whose image and mask sizes differ (header reads only)."""
    from PIL import Image

    for pair in pairs:
        try:
            with Image.open(pair.image) as image, Image.open(pair.mask) as mask:
                image_size, mask_size = image.size, mask.size
        except OSError as exc:
            raise UserError(f"{pair.image}: unreadable image or mask ({exc})") from exc
        if image_size != mask_size:
            raise UserError(
                f"{pair.mask}: mask size {mask_size[0]}×{mask_size[1]} differs from image size "
                f"{image_size[0]}×{image_size[1]} ({pair.image.name})"
            )


def parse_root_spec(spec: str) -> tuple[Path, str | None, float]:
    """Parse `PATH[:SPLIT][@WEIGHT]` as used by `--data` (e.g. `data/coco:train@3`)."""
    weight = 1.0
    if "@" in spec:
        spec, weight_text = spec.rsplit("@", 1)
        try:
            weight = float(weight_text)
        except ValueError:
            raise UserError(f"{spec}@{weight_text}: sampling weight must be a number") from None
        if weight <= 0:
            raise UserError(f"{spec}@{weight_text}: sampling weight must be positive")
    split = None
    if ":" in spec:
        spec, split = spec.rsplit(":", 1)
        split = split or None
    return Path(spec), split, weight


def image_folder(spec: str) -> Path:
    """`ROOT[:SPLIT]` → the folder of photos: ROOT/images/SPLIT, ROOT/images, or ROOT itself."""
    root, split, _ = parse_root_spec(spec)
    folder, _ = split_dirs(root, split)
    if split is None and not folder.is_dir():
        folder = root
    if not folder.is_dir():
        raise UserError(f"{folder}: image folder not found")
    return folder


def spec_images(specs: list[str]) -> list[Path]:
    """Every photo of every `ROOT[:SPLIT]` spec (see `image_folder`), sorted per folder."""
    files = []
    for spec in specs:
        folder = image_folder(spec)
        found = list_images(folder)
        if not found:
            raise UserError(f"{folder}: no images found")
        files.extend(found)
    return files
