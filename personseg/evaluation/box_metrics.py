"""Box metrics: how well a model *finds* people in photos that have person boxes but no masks
(`personseg.data.box_set`, e.g. the held-out `person-wild:val`).

- found: share of boxes with at least 20% of their pixels marked person (threshold 0.5), overall
  and by person size (the box's share of the photo);
- outside: share of the pixels outside every box (grown by the box-check margin) marked person.

They say whether people are found, not how well they are outlined (that is the mask sets' IoU),
and a person without a box counts against a model that finds it, so `outside` is an upper bound
on false positives. Pooled over the set: every box counts once, every outside pixel once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from personseg.data.box_set import FOUND_SHARE, MARGIN, BoxSample, box_found, box_mask, read_boxes
from personseg.evaluation.evaluate import iter_probabilities

# person size bins: the box's share of the photo, [low, high)
SIZE_BINS = {"<1%": (0.0, 0.01), "1-5%": (0.01, 0.05), "5-20%": (0.05, 0.20), ">=20%": (0.20, 1.01)}


@dataclass
class BoxScore:
    """Counts over a set of box photos: boxes and boxes found by person size, and per photo
    (boxes found, boxes, outside pixels marked, outside pixels) for pooling and for paired
    comparisons (`personseg.evaluation.paired`)."""

    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIZE_BINS, 0))
    boxes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIZE_BINS, 0))
    photos: list[tuple[int, int, int, int]] = field(default_factory=list)

    def add(self, prob: np.ndarray, boxes: np.ndarray, threshold: float = 0.5) -> None:
        """One photo's probabilities (H×W) and its N×4 pixel boxes."""
        marked = prob >= threshold
        found = box_found(marked, boxes, FOUND_SHARE)
        area = prob.shape[0] * prob.shape[1]
        for (x0, y0, x1, y1), hit in zip(boxes, found, strict=True):
            share = (x1 - x0) * (y1 - y0) / area
            name = next(k for k, (lo, hi) in SIZE_BINS.items() if lo <= share < hi)
            self.boxes[name] += 1
            self.found[name] += int(hit)
        outside = ~box_mask(boxes, prob.shape, MARGIN)
        self.photos.append((int(np.count_nonzero(found)), len(boxes),
                            int(np.count_nonzero(marked & outside)), int(np.count_nonzero(outside))))

    def summary(self) -> dict:
        """found (all boxes), found by size, outside share, and the counts behind them."""
        total_boxes = sum(self.boxes.values())
        outside_marked = sum(photo[2] for photo in self.photos)
        outside_pixels = sum(photo[3] for photo in self.photos)
        return {
            "images": len(self.photos),
            "boxes": total_boxes,
            "found": sum(self.found.values()) / total_boxes if total_boxes else None,
            "found_by_size": {k: (self.found[k] / n if n else None) for k, n in self.boxes.items()},
            "boxes_by_size": dict(self.boxes),
            "outside_marked": outside_marked / outside_pixels if outside_pixels else 0.0,
        }


def score_boxes(seg, samples: list[BoxSample], batch_size: int = 8, threshold: float = 0.5) -> BoxScore:
    """Run `seg` (a `Segmenter`) on every photo (as stored, at its own resolution, read as
    `personseg evaluate` reads them) and pool."""
    score = BoxScore()
    for sample, prob in iter_probabilities(seg, samples, batch_size):
        score.add(prob, read_boxes(sample.boxes, prob.shape[1], prob.shape[0]), threshold)
    return score
