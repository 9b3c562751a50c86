"""Edge quality of a predicted matte against a ground-truth mask: where region IoU barely moves.

- `boundary_fscore`: the DAVIS boundary measure (Perazzi et al. 2016): precision and recall of
  the predicted outline against the true one, each pixel matched within a tolerance of 0.8 % of
  the image diagonal; computed on the matte thresholded at 0.5.
- `band_iou`: soft IoU (Σ min(α, g) / Σ max(α, g)) over the band of pixels near the true
  outline, so a soft alpha gets credit for partial coverage; `band_mae` is its mean absolute
  alpha error there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BOUNDARY_TOLERANCE = 0.008  # DAVIS: fraction of the image diagonal
BAND_WIDTH = 0.01  # the band around the true outline: this fraction of the diagonal each side


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def outline(mask: np.ndarray) -> np.ndarray:
    """The one-pixel inner outline of a bool mask (pixels of the mask next to a non-mask pixel)."""
    mask = np.asarray(mask, bool)
    eroded = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return mask & ~eroded.astype(bool)


def _radius(shape: tuple[int, ...], fraction: float) -> int:
    return max(1, round(fraction * float(np.hypot(*shape[:2]))))


@dataclass(frozen=True)
class EdgeScore:
    boundary_f: float
    band_iou: float
    band_mae: float


def boundary_fscore(pred: np.ndarray, truth: np.ndarray, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    """F-score of the outline of `pred` (bool, or alpha ≥ 0.5) against that of `truth` (bool)."""
    pred = np.asarray(pred) >= 0.5 if np.asarray(pred).dtype != bool else np.asarray(pred)
    pred_edge, true_edge = outline(pred), outline(np.asarray(truth, bool))
    if not pred_edge.any() and not true_edge.any():
        return 1.0
    if not pred_edge.any() or not true_edge.any():
        return 0.0
    disk = _disk(_radius(pred.shape, tolerance))
    near_true = cv2.dilate(true_edge.astype(np.uint8), disk).astype(bool)
    near_pred = cv2.dilate(pred_edge.astype(np.uint8), disk).astype(bool)
    precision = (pred_edge & near_true).sum() / pred_edge.sum()
    recall = (true_edge & near_pred).sum() / true_edge.sum()
    return 0.0 if precision + recall == 0 else float(2 * precision * recall / (precision + recall))


def edge_band(truth: np.ndarray, width: float = BAND_WIDTH) -> np.ndarray:
    """bool mask of the pixels within `width` × diagonal of the true outline."""
    truth = np.asarray(truth, bool)
    return cv2.dilate(outline(truth).astype(np.uint8), _disk(_radius(truth.shape, width))).astype(bool)


def band_scores(alpha: np.ndarray, truth: np.ndarray, width: float = BAND_WIDTH) -> tuple[float, float]:
    """(soft IoU, mean absolute error) of `alpha` (float in [0, 1] or bool) in the edge band."""
    band = edge_band(truth, width)
    if not band.any():
        return 1.0, 0.0
    a = np.asarray(alpha, np.float32)[band]
    g = np.asarray(truth, bool)[band].astype(np.float32)
    union = np.maximum(a, g).sum()
    iou = 1.0 if union == 0 else float(np.minimum(a, g).sum() / union)
    return iou, float(np.abs(a - g).mean())


def edge_score(alpha: np.ndarray, truth: np.ndarray) -> EdgeScore:
    iou, mae = band_scores(alpha, truth)
    return EdgeScore(boundary_fscore(alpha, truth), iou, mae)
