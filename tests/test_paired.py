"""Paired comparisons (`personseg.evaluation.paired`): the pooled figures of two models on the
same photos, their difference and a bootstrap interval that resamples photos for both at once."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.evaluation.box_metrics import BoxScore
from personseg.evaluation.paired import box_counts, interval, paired_difference


def masks(rng, n: int, extra_fp: int = 0) -> np.ndarray:
    tp = rng.integers(500, 1000, n).astype(float)
    return np.stack([tp, rng.integers(50, 100, n) + extra_fp, rng.integers(50, 100, n)], axis=1)


def test_a_model_compared_with_itself_differs_by_nothing():
    a = masks(np.random.default_rng(0), 40)
    row = paired_difference(a, a.copy(), "iou")
    assert row["difference"] == 0 and row["interval"] == (0.0, 0.0) and row["level"] == 0.9
    assert row["a"] == pytest.approx(a[:, 0].sum() / a.sum())


def test_a_model_worse_on_every_photo_has_an_interval_below_zero():
    rng = np.random.default_rng(1)
    a = masks(rng, 40)
    b = a + [0, 30, 0]  # 30 more false-positive pixels on every photo
    row = paired_difference(a, b, "iou")
    low, high = row["interval"]
    assert row["difference"] < 0 and low <= row["difference"] <= high < 0


def test_pairing_sees_a_small_gap_in_photos_that_vary_far_more():
    """Photos vary far more than the two models differ; resampling the same photos for both
    cancels that variation, so a consistent small gap stays clear of zero, while each model's
    own interval (`interval`) is far wider than the gap."""
    rng = np.random.default_rng(2)
    scale = rng.uniform(0.1, 10.0, 60)[:, None]  # photo sizes differ 100×
    a = masks(rng, 60) * scale
    b = a + np.array([0.0, 5.0, 0.0]) * scale
    row = paired_difference(a, b, "iou")
    low, high = row["interval"]
    assert high < 0
    own_low, own_high = interval(a, "iou")
    assert own_high - own_low > 3 * abs(row["difference"])


def test_box_counts_per_photo_add_up_to_the_pooled_summary():
    score = BoxScore()
    prob = np.zeros((40, 60), np.float32)
    prob[5:25, 5:20] = 1.0  # the first box's person, and a few marked pixels far from any box
    prob[35:38, 50:58] = 1.0
    score.add(prob, np.array([[5, 5, 20, 25], [30, 5, 45, 25]]))
    score.add(np.zeros((40, 60), np.float32), np.array([[0, 0, 10, 10]]))
    counts = box_counts(score)
    summary = score.summary()
    assert counts.shape == (2, 4) and counts[:, 1].sum() == summary["boxes"] == 3
    assert summary["found"] == pytest.approx(1 / 3)
    for figure in ("found", "outside_marked"):
        assert paired_difference(counts, counts, figure)["a"] == pytest.approx(summary[figure])
    assert summary["outside_marked"] > 0


def test_different_photos_cannot_be_paired():
    with pytest.raises(ValueError, match="same non-empty photos"):
        paired_difference(np.ones((3, 3)), np.ones((4, 3)), "iou")
