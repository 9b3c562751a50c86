"""Segmentation metrics pooled over a whole dataset.

Pooled means: true/false positives/negatives are summed over every pixel of every image, then
the ratio is taken once. (Averaging per-batch or per-image ratios gives a different, usually
flattering, number; `mean per-image IoU` is reported separately where wanted.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Confusion:
    """Pixel counts at one threshold; add them up across images with `+=`."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, pred: np.ndarray, truth: np.ndarray) -> Confusion:
        """Counts for boolean prediction and ground-truth masks of the same shape."""
        pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
        if pred.shape != truth.shape:
            raise ValueError(f"prediction {pred.shape} and ground truth {truth.shape} differ in shape")
        tp = int(np.count_nonzero(pred & truth))
        fp = int(np.count_nonzero(pred)) - tp
        fn = int(np.count_nonzero(truth)) - tp
        return cls(tp, fp, fn, pred.size - tp - fp - fn)

    def __iadd__(self, other: Confusion) -> Confusion:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn
        return self

    @property
    def iou(self) -> float:
        return _ratio(self.tp, self.tp + self.fp + self.fn)

    @property
    def dice(self) -> float:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def accuracy(self) -> float:
        return _ratio(self.tp + self.tn, self.tp + self.fp + self.fn + self.tn)

    @property
    def positive_rate(self) -> float:
        """Fraction of pixels predicted as person (the false-positive rate on empty images)."""
        return _ratio(self.tp + self.fp, self.tp + self.fp + self.fn + self.tn)


def _ratio(num: int, den: int) -> float:
    """num/den, and 1.0 for 0/0 (nothing to find and nothing found is a perfect score)."""
    return float(num) / den if den else 1.0
