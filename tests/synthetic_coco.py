"""A tiny COCO instances file with every segmentation kind, and its photos, made in tmp_path.

  a.jpg  60×80  two overlapping polygon persons (one with two parts), an uncompressed-RLE crowd
               region, a dog
  b.jpg  50×40  a compressed-RLE person, a tiny square person (area 9) for --min-area
  c.jpg  30×30  a dog only (a negative)
  d.png  24×32  a polygon person, PNG source (must be re-encoded as JPEG)
  e.jpg  20×20  no annotation at all (a negative)
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

PERSON, DOG = 1, 18
SIZES = {"a.jpg": (60, 80), "b.jpg": (50, 40), "c.jpg": (30, 30), "d.png": (24, 32), "e.jpg": (20, 20)}


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's list-counts RLE (column-major runs, starting with a run of zeros)."""
    flat = mask.flatten(order="F").astype(np.uint8)
    counts, value, run = [], 0, 0
    for pixel in flat:
        if pixel != value:
            counts.append(run)
            value, run = pixel, 0
        run += 1
    counts.append(run)
    return {"size": list(mask.shape), "counts": [int(c) for c in counts]}


def compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(mask.shape), "counts": rle["counts"].decode("ascii")}


def annotations() -> list[dict]:
    crowd = np.zeros(SIZES["a.jpg"], np.uint8)
    crowd[40:58, 5:30] = 1
    blob = np.zeros(SIZES["b.jpg"], np.uint8)
    cv2.ellipse(blob, (20, 25), (10, 18), 0, 0, 360, 1, -1)
    anns = [
        # a: overlapping polygon persons, one in two parts; crowd region; a dog
        {"image_id": 1, "category_id": PERSON, "iscrowd": 0, "area": 600.0,
         "segmentation": [[10, 5, 40, 5, 40, 35, 10, 35]]},
        {"image_id": 1, "category_id": PERSON, "iscrowd": 0, "area": 700.0,
         "segmentation": [[30.5, 20.2, 70.8, 15.1, 60.3, 50.7], [72, 50, 78, 50, 78, 58, 72, 58]]},
        {"image_id": 1, "category_id": PERSON, "iscrowd": 1, "area": 450.0,
         "segmentation": uncompressed_rle(crowd)},
        {"image_id": 1, "category_id": DOG, "iscrowd": 0, "area": 100.0,
         "segmentation": [[50, 0, 79, 0, 79, 10, 50, 10]]},
        # b: compressed RLE person, tiny person
        {"image_id": 2, "category_id": PERSON, "iscrowd": 0, "area": float(blob.sum()),
         "segmentation": compressed_rle(blob)},
        {"image_id": 2, "category_id": PERSON, "iscrowd": 0, "area": 9.0,
         "segmentation": [[1, 1, 4, 1, 4, 4, 1, 4]]},
        # c: a dog only
        {"image_id": 3, "category_id": DOG, "iscrowd": 0, "area": 100.0,
         "segmentation": [[5, 5, 25, 5, 25, 25, 5, 25]]},
        # d: PNG source
        {"image_id": 4, "category_id": PERSON, "iscrowd": 0, "area": 200.0,
         "segmentation": [[4, 2, 28, 4, 20, 22, 6, 20]]},
    ]
    for i, ann in enumerate(anns, start=1):
        ann["id"] = i
        ann["bbox"] = [0, 0, 1, 1]
    return anns


def coco_dict() -> dict:
    images = [{"id": i, "file_name": name, "height": h, "width": w}
              for i, (name, (h, w)) in enumerate(SIZES.items(), start=1)]
    return {"images": images, "annotations": annotations(),
            "categories": [{"id": PERSON, "name": "person"}, {"id": DOG, "name": "dog"}]}


def write_images(folder: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (h, w) in SIZES.items():
        cv2.imwrite(str(folder / name), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    return folder


def make_coco(root: Path, data: dict | None = None) -> tuple[Path, Path]:
    """Write `root/instances.json` (default: `coco_dict()`) and `root/images/`; return both."""
    root.mkdir(parents=True, exist_ok=True)
    ann = root / "instances.json"
    ann.write_text(json.dumps(data if data is not None else coco_dict()))
    return ann, write_images(root / "images")


def expected_mask(ann_path: Path, image_id: int, crowd: bool = True, min_area: float = 0) -> np.ndarray:
    """Reference: union of pycocotools' annToMask over the person annotations, as 0/255."""
    coco = COCO(str(ann_path))
    info = coco.imgs[image_id]
    mask = np.zeros((info["height"], info["width"]), np.uint8)
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=image_id, catIds=[PERSON], iscrowd=None)):
        if (ann["iscrowd"] and not crowd) or ann["area"] < min_area:
            continue
        mask = np.maximum(mask, coco.annToMask(ann))
    return mask * 255
