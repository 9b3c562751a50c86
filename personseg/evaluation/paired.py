"""Paired comparisons of two models scored on the same photos: the difference of a pooled figure
(B − A) with a bootstrap interval in which both models are resampled with the *same* photos, so
a gap can be told from the luck of which photos happen to be in the set. The interval says
nothing of training noise (another seed of the same recipe can move a figure as much).

Each model's photos are rows of counts: `[tp, fp, fn]` per image for mask IoU
(`mask_counts`), `[found, boxes, outside marked, outside pixels]` per photo for box metrics
(`box_counts`); a figure is a function of the column sums (`POOLED`), as everywhere in
`personseg.evaluation`: pooled over the set, never averaged over photos.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # evaluate.py imports this module for its own interval
    from personseg.evaluation.box_metrics import BoxScore
    from personseg.evaluation.evaluate import Evaluation


def _ratio(numerator: np.ndarray, denominator: np.ndarray, empty: float) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.full_like(numerator, empty), where=denominator > 0)


# figure name -> pooled value of summed counts (rows of sums: R×k → R)
POOLED: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "iou": lambda s: _ratio(s[:, 0], s[:, 0] + s[:, 1] + s[:, 2], 1.0),
    "found": lambda s: _ratio(s[:, 0], s[:, 1], 0.0),
    "outside_marked": lambda s: _ratio(s[:, 2], s[:, 3], 0.0),
}


def mask_counts(evaluation: Evaluation) -> np.ndarray:
    """N×3 `[tp, fp, fn]` per image at the evaluation's headline threshold."""
    k = evaluation.thresholds.index(evaluation.threshold)
    rows = [[c.tp, c.fp, c.fn] for c in (image.counts[k] for image in evaluation.images)]
    return np.array(rows, float).reshape(-1, 3)


def box_counts(score: BoxScore) -> np.ndarray:
    """N×4 `[found, boxes, outside marked, outside pixels]` per photo."""
    return np.array(score.photos, float).reshape(-1, 4)


def _resamples(photos: int, resamples: int, seed: int) -> np.ndarray:
    """resamples × photos indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, photos, size=(resamples, photos))


def _central(values: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def interval(counts: np.ndarray, figure: str, level: float = 0.9, resamples: int = 2000,
             seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of one model's pooled `figure`: photos resampled with replacement."""
    picks = _resamples(len(counts), resamples, seed)
    return _central(POOLED[figure](counts[picks].sum(axis=1)), level)


def paired_difference(a: np.ndarray, b: np.ndarray, figure: str, level: float = 0.9,
                      resamples: int = 2000, seed: int = 0) -> dict:
    """Figure `figure` of A and of B over all photos, B − A, and the central `level` interval of
    B − A over bootstrap resamples of the photos (one resample drawn for both). Row i of `a`
    and of `b` must be the same photo."""
    if a.shape != b.shape or len(a) == 0:
        raise ValueError(f"paired counts need the same non-empty photos: {a.shape} vs {b.shape}")
    pooled = POOLED[figure]
    value_a, value_b = (float(pooled(x.sum(axis=0, keepdims=True))[0]) for x in (a, b))
    picks = _resamples(len(a), resamples, seed)
    differences = pooled(b[picks].sum(axis=1)) - pooled(a[picks].sum(axis=1))
    return {"a": value_a, "b": value_b, "difference": value_b - value_a, "level": level,
            "interval": _central(differences, level)}
