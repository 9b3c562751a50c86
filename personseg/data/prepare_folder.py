"""An existing image folder + mask folder → the prepared layout, with every pair checked.

Pairs are matched by file stem. A pair is skipped (and listed) when a partner is missing, the
sizes differ or the mask is not binary; masks stored as 0/1 are accepted and written as 0/255.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from personseg.data.dataset_layout import check_split, held_out, pair_paths
from personseg.data.manifest import Row
from personseg.data.output_guard import check_prepare_outputs
from personseg.data.pair_files import check_plan_options, fit, read_source, write_pair
from personseg.data.runner import Job, Report, Skipped, run_jobs
from personseg.errors import OptionError, UserError
from personseg.files import list_images, read_mask

MASK_PREFERENCE = (".png", ".bmp", ".tif", ".tiff", ".webp", ".jpg", ".jpeg")


@dataclass(frozen=True)
class FolderJob(Job):
    source: Path = Path()
    mask_source: Path = Path()
    max_side: int | None = None


def binary_mask(mask: np.ndarray) -> np.ndarray:
    """The mask as uint8 0/255 if its values are {0,255} or {0,1}; `Skipped` otherwise."""
    values = np.unique(mask)
    if set(values.tolist()) <= {0, 255}:
        return mask.astype(np.uint8)
    if set(values.tolist()) <= {0, 1}:
        return mask.astype(np.uint8) * np.uint8(255)
    shown = ", ".join(str(v) for v in values[:8]) + (", ..." if len(values) > 8 else "")
    raise Skipped(f"mask is not binary: values {shown} (expected 0/255 or 0/1)")


def prepare_pair(job: FolderJob) -> Row:
    """Check and write one image/mask pair (runs in a worker)."""
    image, data, copyable = read_source(job.source)
    try:
        mask = read_mask(job.mask_source)
    except UserError as exc:
        raise Skipped(str(exc)) from None
    height, width = image.shape[:2]
    if mask.shape != (height, width):
        raise Skipped(f"mask {job.mask_source.name} is {mask.shape[1]}×{mask.shape[0]} "
                      f"but the image is {width}×{height}")
    mask = binary_mask(mask)
    image, mask, resized = fit(image, mask, job.max_side)
    write_pair(job.image_out, job.mask_out, image, mask, data if copyable and not resized else None)
    return job.row(mask)


def plan(images: str | os.PathLike, masks: str | os.PathLike, out: str | os.PathLike,
         split: str = "train", *, max_side: int | None = None,
         limit: int | None = None) -> tuple[list[FolderJob], list[tuple[str, str]]]:
    """Jobs for every image with a mask (sorted by name), and the orphans skipped up front."""
    check_split(split)
    check_plan_options(max_side, limit)
    images, masks, out = Path(images), Path(masks), Path(out)
    for folder, what in ((images, "image"), (masks, "mask")):
        if not folder.is_dir():
            raise UserError(f"{folder}: {what} folder not found")
    image_files = list_images(images)
    if not image_files:
        raise UserError(f"{images}: no images found")
    mask_by_stem: dict[str, Path] = {}
    rank = {ext: i for i, ext in enumerate(MASK_PREFERENCE)}
    for mask in sorted(list_images(masks), key=lambda p: rank.get(p.suffix.lower(), len(rank))):
        mask_by_stem.setdefault(mask.stem, mask)
    jobs: list[FolderJob] = []
    skipped: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for image in image_files:
        if image.stem in seen:
            skipped.append((image.name, f"same stem as {seen[image.stem]}; outputs would collide"))
            continue
        seen[image.stem] = image.name
        mask = mask_by_stem.get(image.stem)
        if mask is None:
            skipped.append((image.name, f"no mask named {image.stem}.png in {masks}"))
            continue
        if limit is not None and len(jobs) >= limit:
            continue
        target = pair_paths(out, split, image.stem)
        jobs.append(FolderJob(
            file=target.image.name, image_out=target.image, mask_out=target.mask,
            source=image, mask_source=mask, max_side=max_side,
        ))
    for stem, mask in sorted(mask_by_stem.items()):
        if stem not in seen:
            skipped.append((mask.name, f"mask without an image in {images}"))
    return jobs, skipped


def prepare_folder(images: str | os.PathLike, masks: str | os.PathLike, out: str | os.PathLike,
                   split: str = "train", *, max_side: int | None = None, workers: int = 1,
                   limit: int | None = None, holdout: int | None = None,
                   holdout_split: str = "test") -> list[Report]:
    """Check and copy (or resume copying) an image/mask folder pair; one report per split written.

    With `holdout=K`, 1 in K pairs (by `dataset_layout.held_out`) go to `holdout_split` instead:
    a fixed, documented test split that no model trains on."""
    jobs, skipped = plan(images, masks, out, split, max_side=max_side, limit=limit)
    if holdout is None:
        _check_outputs(images, masks, out, [split], jobs)
        return [run_jobs(prepare_pair, jobs, Path(out), split, workers=workers, skipped=skipped)]
    if holdout < 2:
        raise OptionError("holdout", holdout, "must be at least 2 (hold out 1 in K pairs)")
    if check_split(holdout_split) == split:
        raise OptionError("holdout_split", holdout_split, f"must differ from the split {split!r}")
    kept = [job for job in jobs if not held_out(job.source.stem, holdout)]
    held = []
    for job in jobs:
        if held_out(job.source.stem, holdout):
            target = pair_paths(out, holdout_split, job.source.stem)
            held.append(dataclasses.replace(job, image_out=target.image, mask_out=target.mask))
    _check_outputs(images, masks, out, [split, holdout_split], kept + held)
    return [run_jobs(prepare_pair, kept, Path(out), split, workers=workers, skipped=skipped),
            run_jobs(prepare_pair, held, Path(out), holdout_split, workers=workers)]


def _check_outputs(images, masks, out, splits: list[str], jobs: list[FolderJob]) -> None:
    """Nothing written may replace an input photo or mask (see `output_guard`)."""
    check_prepare_outputs(out, splits, {"--images": Path(images), "--masks": Path(masks)},
                          [path for job in jobs for path in (job.source, job.mask_source)],
                          [path for job in jobs for path in (job.image_out, job.mask_out)])
