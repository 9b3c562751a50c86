"""COCO instances JSON + image folder → `OUT/images/<split>/*.jpg`, `OUT/masks/<split>/*.png`
and `OUT/manifest_<split>.csv` (one mask per image: the union of its person instances).

Everything that makes the whole run pointless (bad JSON, no person category, no image folder, an
output that would replace an input, see `output_guard`) is checked before anything is written;
per-image problems skip that image (see `personseg.data.runner`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from personseg.data.coco import (
    SegmentationError,
    annotations_mask,
    load_coco,
    person_annotations,
    person_category_id,
)
from personseg.data.dataset_layout import check_split, pair_paths
from personseg.data.manifest import Row
from personseg.data.output_guard import check_prepare_outputs
from personseg.data.pair_files import check_plan_options, fit, read_source, write_pair
from personseg.data.runner import Job, Report, Skipped, run_jobs
from personseg.errors import OptionError, UserError
from personseg.limits import check_number


@dataclass(frozen=True)
class CocoJob(Job):
    """One COCO image: where it is, its annotated size and the person annotations of its mask."""

    source: Path = Path()
    width: int = 0
    height: int = 0
    annotations: tuple = ()
    max_side: int | None = None


def prepare_image(job: CocoJob) -> Row:
    """Write one image and its person mask; `Skipped` for a per-image problem (runs in a worker)."""
    image, data, copyable = read_source(job.source)
    height, width = image.shape[:2]
    if (width, height) != (job.width, job.height):
        raise Skipped(f"image is {width}×{height} but the annotations say {job.width}×{job.height}")
    try:
        mask = annotations_mask(list(job.annotations), height, width)
    except SegmentationError as exc:
        raise Skipped(str(exc)) from None
    image, mask, resized = fit(image, mask, job.max_side)
    write_pair(job.image_out, job.mask_out, image, mask, data if copyable and not resized else None)
    return job.row(mask)


def parse_negatives(text: str | int | None) -> int | None:
    """`all` → None (keep every image without people), `none` → 0, a number → at most that many."""
    if text is None or text == "all":
        return None
    if text == "none":
        return 0
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise OptionError("negatives", text, "expected all, none or a number") from None
    if value < 0:
        raise OptionError("negatives", text, "must not be negative")
    return value


def plan(annotations: str | os.PathLike, images: str | os.PathLike, out: str | os.PathLike,
         split: str = "train", *, crowd: str = "include", min_area: float = 0,
         negatives: int | str | None = None, max_side: int | None = None,
         limit: int | None = None) -> tuple[list[CocoJob], list[tuple[str, str]]]:
    """The jobs of a run (images sorted by file name) and names skipped up front (collisions)."""
    check_split(split)
    if crowd not in ("include", "ignore"):
        raise OptionError("crowd", crowd, "expected include or ignore")
    check_number("min_area", min_area, 0)
    check_plan_options(max_side, limit)
    keep_negatives = parse_negatives(negatives)
    coco = load_coco(annotations)
    person = person_category_id(coco)
    images = Path(images)
    if not images.is_dir():
        raise UserError(f"{images}: image folder not found")
    out = Path(out)
    jobs: list[CocoJob] = []
    skipped: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    n_negatives = 0
    for info in sorted(coco.imgs.values(), key=lambda info: str(info["file_name"])):
        has_person = any(ann["category_id"] == person for ann in coco.imgToAnns.get(info["id"], []))
        if not has_person:
            if keep_negatives is not None and n_negatives >= keep_negatives:
                continue
            n_negatives += 1
        name = str(info["file_name"])
        stem = Path(name).stem
        if stem in seen:
            skipped.append((name, f"same stem as {seen[stem]}; outputs would collide"))
            continue
        seen[stem] = name
        anns = person_annotations(coco, info["id"], crowd=crowd, min_area=min_area)
        target = pair_paths(out, split, stem)
        jobs.append(CocoJob(
            file=target.image.name, image_out=target.image, mask_out=target.mask,
            persons=sum(not ann.get("iscrowd", 0) for ann in anns),
            crowds=sum(bool(ann.get("iscrowd", 0)) for ann in anns),
            source=images / name, width=int(info["width"]), height=int(info["height"]),
            annotations=tuple(anns), max_side=max_side,
        ))
        if limit is not None and len(jobs) >= limit:
            break
    return jobs, skipped


def prepare(annotations: str | os.PathLike, images: str | os.PathLike, out: str | os.PathLike,
            split: str = "train", *, crowd: str = "include", min_area: float = 0,
            negatives: int | str | None = None, max_side: int | None = None,
            workers: int = 1, limit: int | None = None) -> Report:
    """Prepare (or resume preparing) one split; the report's `exit_code` is 1 if anything was skipped."""
    jobs, skipped = plan(annotations, images, out, split, crowd=crowd, min_area=min_area,
                         negatives=negatives, max_side=max_side, limit=limit)
    check_prepare_outputs(out, [split], {"--images": Path(images)},
                          [Path(annotations), *(job.source for job in jobs)],
                          [path for job in jobs for path in (job.image_out, job.mask_out)])
    return run_jobs(prepare_image, jobs, Path(out), split, workers=workers, skipped=skipped)
