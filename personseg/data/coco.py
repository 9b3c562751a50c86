"""COCO instances JSON → binary person masks, via pycocotools.

Loading problems (missing file, bad JSON, a schema violation: `coco_schema`, no `person`
category) are UserErrors: nothing can be prepared. A bad segmentation of one image (degenerate
polygon, malformed RLE) raises `SegmentationError` instead, so a pipeline can skip that image
and carry on. Segmentations are validated before pycocotools sees them because pycocotools
accepts some of them silently (a 2-point polygon is read as a bounding box; RLE counts that
overrun the image are decoded past the buffer).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from personseg.data.coco_schema import REQUIRED_KEYS, check_schema
from personseg.errors import UserError


class SegmentationError(ValueError):
    """An annotation that can't be turned into a mask; the image it belongs to should be skipped."""


class DegeneratePolygon(SegmentationError):
    """A polygon with fewer than 3 points (or an odd number of coordinates)."""


class MalformedRLE(SegmentationError):
    """RLE whose size, counts or encoding don't describe the image."""


def load_coco(path: str | os.PathLike) -> COCO:
    """Load and index an instances JSON; UserError naming the file for anything unusable."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: annotation file not found")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object with {', '.join(REQUIRED_KEYS)}")
    check_schema(path, data)  # before pycocotools: list ids, duplicates, hidden names
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints "creating index..."
        coco.createIndex()
    coco.personseg_path = str(path)
    return coco


def person_category_id(coco: COCO) -> int:
    """The id of the category named `person`; UserError when the file has none."""
    ids = [cat["id"] for cat in coco.dataset["categories"] if cat["name"] == "person"]
    if not ids:
        names = ", ".join(sorted(str(cat["name"]) for cat in coco.dataset["categories"])[:10]) or "none"
        raise UserError(f"{getattr(coco, 'personseg_path', 'annotations')}: no 'person' category "
                        f"(categories: {names})")
    return int(ids[0])


def person_annotations(coco: COCO, image_id: int, crowd: str = "include", min_area: float = 0) -> list[dict]:
    """Person annotations of one image that go into its mask: crowd regions unless
    `crowd="ignore"`, and only instances whose area is at least `min_area` pixels (an
    annotation without a numeric `area` is kept: its size can't be judged, and it is a person)."""
    if crowd not in ("include", "ignore"):
        raise ValueError(f"crowd must be 'include' or 'ignore', got {crowd!r}")
    category = person_category_id(coco)
    selected = []
    for ann in coco.imgToAnns.get(image_id, []):
        if ann["category_id"] != category:
            continue
        if crowd == "ignore" and ann.get("iscrowd", 0):
            continue
        area = ann.get("area")
        if min_area and isinstance(area, (int, float)) and area < min_area:
            continue
        selected.append(ann)
    return selected


def annotations_mask(annotations: list[dict], height: int, width: int) -> np.ndarray:
    """Union of the annotations' masks as H×W uint8 0/255 (the same RLE path as COCO.annToMask)."""
    mask = np.zeros((height, width), np.uint8)
    for ann in annotations:
        rle = segmentation_rle(ann, height, width)
        mask |= mask_utils.decode(rle)
    return mask * np.uint8(255)


def person_mask(coco: COCO, image_id: int, crowd: str = "include", min_area: float = 0) -> np.ndarray:
    """H×W uint8 mask (0/255) of every person in one image; SegmentationError if one is unusable."""
    info = coco.imgs[image_id]
    anns = person_annotations(coco, image_id, crowd=crowd, min_area=min_area)
    return annotations_mask(anns, int(info["height"]), int(info["width"]))


def segmentation_rle(ann: dict, height: int, width: int) -> dict:
    """Validated RLE of one annotation (polygons merged, uncompressed RLE compressed)."""
    segm = ann["segmentation"]
    where = f"annotation {ann.get('id')}"
    if isinstance(segm, list):
        if not segm:
            raise DegeneratePolygon(f"{where}: empty polygon list")
        for polygon in segm:
            if not isinstance(polygon, list) or not all(isinstance(v, (int, float)) for v in polygon):
                raise DegeneratePolygon(f"{where}: polygon is not a list of coordinates")
            if len(polygon) < 6 or len(polygon) % 2:
                raise DegeneratePolygon(
                    f"{where}: degenerate polygon with {len(polygon)} coordinates (need ≥ 3 x,y points)")
        return mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    if not isinstance(segm, dict) or "counts" not in segm or "size" not in segm:
        raise MalformedRLE(f"{where}: segmentation is neither polygons nor RLE with size and counts")
    size = segm["size"]
    if list(size) != [height, width]:
        raise MalformedRLE(f"{where}: RLE size {size} differs from the image's [{height}, {width}]")
    counts = segm["counts"]
    if isinstance(counts, list):
        if not all(isinstance(c, int) and c >= 0 for c in counts):
            raise MalformedRLE(f"{where}: RLE counts must be non-negative integers")
        _check_total(where, sum(counts), height, width)
        return mask_utils.frPyObjects(segm, height, width)
    if isinstance(counts, bytes):
        counts = counts.decode("ascii", errors="replace")
    if not isinstance(counts, str):
        raise MalformedRLE(f"{where}: RLE counts must be a list or a string")
    _check_total(where, sum(decode_counts(counts, where)), height, width)
    return {"size": [height, width], "counts": counts.encode("ascii")}


def _check_total(where: str, total: int, height: int, width: int) -> None:
    if total != height * width:
        raise MalformedRLE(f"{where}: RLE counts cover {total} pixels, the image has {height * width}")


def decode_counts(counts: str, where: str = "RLE") -> list[int]:
    """Run lengths of a compressed COCO RLE string (pycocotools' rleFrString, with bounds checks)."""
    runs: list[int] = []
    p = 0
    while p < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if p >= len(counts):
                raise MalformedRLE(f"{where}: compressed RLE string ends mid-number")
            c = ord(counts[p]) - 48
            if not 0 <= c < 64:
                raise MalformedRLE(f"{where}: invalid character {counts[p]!r} in compressed RLE")
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            p += 1
            shift += 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            raise MalformedRLE(f"{where}: compressed RLE decodes to a negative run length")
        runs.append(value)
    return runs
