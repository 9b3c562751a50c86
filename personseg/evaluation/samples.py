"""Ground truth to score against: a list of `Sample`s (image file + a function that reads its
boolean person mask, and how many people it shows when that is known), from a COCO instances
file or a prepared dataset root."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from personseg.data.dataset_layout import find_pairs, resolve_split
from personseg.data.manifest import manifest_path, read_manifest
from personseg.errors import OptionError, UserError
from personseg.files import read_mask


@dataclass(frozen=True)
class Sample:
    """An image file and a function returning its boolean H×W ground truth; `persons` (person
    instances) and `crowds` (crowd regions) when the source counts them (COCO, a manifest)."""

    name: str
    image: Path
    truth: Callable[[], np.ndarray]
    persons: int | None = None
    crowds: int | None = None


def prepared_samples(root: str | Path, split: str | None) -> list[Sample]:
    """Pairs of a prepared root (`images/<split>` + `masks/<split>`); mask pixels > 127 are person.
    Person and crowd counts come from the split's manifest when it lists the pair."""
    rows = read_manifest(manifest_path(root, split)) if split else {}
    samples = []
    for pair in find_pairs(root, split):
        row = rows.get(pair.image.name)
        samples.append(Sample(pair.image.name, pair.image, lambda mask=pair.mask: read_mask(mask) > 127,
                              row.persons if row else None, row.crowds if row else None))
    return samples


def coco_samples(annotations: str | Path, images: str | Path) -> list[Sample]:
    """Every image of a COCO instances file (sorted by file name); truth = union of all person
    instances, crowd regions included, so a crowd of people counts as people."""
    from personseg.data.coco import (  # pycocotools only when COCO is used
        load_coco,
        person_annotations,
        person_mask,
    )

    images = Path(images)
    if not images.is_dir():
        raise UserError(f"{images}: image folder not found")
    with contextlib.redirect_stdout(sys.stderr):  # pycocotools chats on stdout; keep --json clean
        coco = load_coco(annotations)
    infos = sorted(coco.imgs.values(), key=lambda info: info["file_name"])

    def truth(info: dict) -> np.ndarray:
        try:
            return person_mask(coco, info["id"], crowd="include") > 0
        except ValueError as exc:  # personseg.data.coco.SegmentationError: an unusable annotation
            raise UserError(f"{annotations}: {info['file_name']}: {exc}") from exc

    def counts(info: dict) -> tuple[int, int]:
        anns = person_annotations(coco, info["id"])
        crowds = sum(1 for ann in anns if ann.get("iscrowd", 0))
        return len(anns) - crowds, crowds

    return [Sample(info["file_name"], images / info["file_name"], lambda i=info: truth(i), *counts(info))
            for info in infos]


def load_samples(annotations: str | Path | None = None, images: str | Path | None = None,
                 data: str | Path | None = None, split: str | None = None,
                 limit: int | None = None) -> list[Sample]:
    """Samples from a COCO file (`annotations` + `images`) or a prepared root (`data`, `split`
    defaulting to `val` when the root has one), cut to the first `limit`."""
    if bool(annotations) != bool(images):
        raise UserError("COCO ground truth needs both the annotations file and the images folder")
    if annotations and data:
        raise UserError("give either COCO annotations with images, or a prepared dataset root, not both")
    if annotations:
        samples = coco_samples(annotations, images)
    elif data:
        samples = prepared_samples(data, resolve_split(data, split, "val"))
    else:
        raise UserError("no ground truth: give COCO annotations with their images, "
                        "or a prepared dataset root")
    if limit is not None:
        if limit < 1:
            raise OptionError("limit", limit, "must be at least 1")
        samples = samples[:limit]
    return samples
