"""Photos with person boxes and no masks (e.g. `../shared/data/person-wild`): finding them, their
fixed train/val split, reading the boxes, and checking a teacher's map against them.

Layout: `ROOT/images/<stem>.jpg` + `ROOT/boxes/<stem>.txt`, one YOLO line per person
(`0 cx cy w h`, normalised to the photo; a YOLO polygon line `0 x1 y1 x2 y2 ...` counts as the
box around its points). Every line is a person: the class id is not read (person-wild's own
files use 0 and, for 62 people of one source, 1). A root is a box set when it has a `boxes/` folder. Its
splits are fixed by the file stem (`dataset_layout.held_out`, 1 in 5 → `val`, the rest →
`train`; `all` = every photo), so nothing is copied and the same photos are held out everywhere.

The training target of a box photo is a teacher's soft person probability *checked by the
boxes* (`check_teacher_map`): outside every box (plus a small margin) is background; a box in
which the teacher marks (almost) no person is a person it missed, so that box's pixels get
weight 0 in the loss (neither person nor background is taught there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from personseg.data.dataset_layout import held_out
from personseg.errors import UserError
from personseg.files import list_images

BOX_SPLITS = ("train", "val", "all")
HOLDOUT_EVERY = 5
FOUND_SHARE = 0.2  # a box counts as found when at least this share of its pixels is marked person
MARGIN = 0.05  # box margin (share of the box side, at least 2 px) before "outside" means background


@dataclass(frozen=True)
class BoxSample:
    """A photo and its box file."""

    image: Path
    boxes: Path

    @property
    def stem(self) -> str:
        return self.image.stem


def is_box_root(root: str | Path) -> bool:
    """True for a folder laid out as photos + `boxes/` (see the module docstring)."""
    return (Path(root) / "boxes").is_dir()


def find_box_samples(root: str | Path, split: str | None = "all") -> list[BoxSample]:
    """The photos of a box root in `split` (train / val / all), sorted; UserError naming the
    root for a missing folder or a photo without a box file."""
    root = Path(root)
    split = split or "all"
    if split not in BOX_SPLITS:
        raise UserError(f"{root}:{split}: a box set's splits are {', '.join(BOX_SPLITS)} "
                        f"(val = the fixed 1 in {HOLDOUT_EVERY} by file name)")
    image_dir, box_dir = root / "images", root / "boxes"
    if not image_dir.is_dir():
        raise UserError(f"{root}: no images/ folder next to boxes/")
    samples, missing = [], []
    for image in list_images(image_dir):
        if split != "all" and held_out(image.stem, HOLDOUT_EVERY) != (split == "val"):
            continue
        boxes = box_dir / f"{image.stem}.txt"
        (samples if boxes.is_file() else missing).append(BoxSample(image, boxes))
    if missing:
        listed = ", ".join(s.image.name for s in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise UserError(f"{box_dir}: no box file for {len(missing)} photo(s): {listed}")
    if not samples:
        raise UserError(f"{image_dir}: no photos in split {split}")
    return samples


def read_boxes(path: str | Path, width: int, height: int) -> np.ndarray:
    """A YOLO box file → N×4 int pixel boxes (x0, y0, x1, y1), clipped to the photo; every line is
    a person whatever its class id, polygons become their bounding boxes. UserError naming the file and
    line for anything malformed."""
    boxes = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            int(fields[0])  # the class id: a number, not read
            values = np.array(fields[1:], dtype=float)
            if len(values) == 4:
                cx, cy, w, h = values
            elif len(values) >= 6 and len(values) % 2 == 0:  # a polygon: its bounding box
                xs, ys = values[0::2], values[1::2]
                cx, cy, w, h = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2, np.ptp(xs), np.ptp(ys)
            else:
                raise ValueError
        except ValueError:
            short = line if len(line) < 60 else line[:57] + "..."
            raise UserError(f"{path}: line {number}: expected 'class cx cy w h' (or a polygon "
                            f"'class x1 y1 x2 y2 ...'), got {short!r}") from None
        if not all(np.isfinite([cx, cy, w, h])) or w <= 0 or h <= 0:
            raise UserError(f"{path}: line {number}: box size must be positive and finite")
        x0, x1 = (cx - w / 2) * width, (cx + w / 2) * width
        y0, y1 = (cy - h / 2) * height, (cy + h / 2) * height
        box = np.clip(np.rint([x0, y0, x1, y1]), 0, [width, height, width, height]).astype(int)
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
    return np.array(boxes, dtype=int).reshape(-1, 4)


def box_mask(boxes: np.ndarray, shape: tuple[int, int], margin: float = 0.0) -> np.ndarray:
    """Boolean H×W union of `boxes`, each grown by `margin` of its side (at least 2 px if > 0)."""
    mask = np.zeros(shape, dtype=bool)
    for x0, y0, x1, y1 in boxes:
        dx = max(2, round(margin * (x1 - x0))) if margin else 0
        dy = max(2, round(margin * (y1 - y0))) if margin else 0
        mask[max(0, y0 - dy) : y1 + dy, max(0, x0 - dx) : x1 + dx] = True
    return mask


def box_found(marked: np.ndarray, boxes: np.ndarray, share: float = FOUND_SHARE) -> np.ndarray:
    """Per box: at least `share` of its pixels marked person in the boolean map `marked`."""
    found = [marked[y0:y1, x0:x1].mean() >= share for x0, y0, x1, y1 in boxes]
    return np.array(found, dtype=bool)


def check_teacher_map(prob: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A teacher's uint8 map (probability × 255) checked by the photo's boxes → (target, ignore):
    the map with every pixel outside the (margin-grown) boxes set to 0, and a uint8 {0, 255} mask
    of the pixels of missed boxes (teacher marks < `FOUND_SHARE` of them) that no found box
    covers — those get weight 0 in the loss."""
    inside = box_mask(boxes, prob.shape, MARGIN)
    target = np.where(inside, prob, 0).astype(np.uint8)
    found = box_found(prob >= 128, boxes)
    ignore = box_mask(boxes[~found], prob.shape) & ~box_mask(boxes[found], prob.shape)
    return target, (ignore * 255).astype(np.uint8)
