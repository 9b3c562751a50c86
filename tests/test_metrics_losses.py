"""Metrics and losses against values computed by hand on tiny masks."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.evaluation.metrics import Confusion

# 2×4 prediction and truth:    pred 1 1 0 0   truth 1 0 0 0
#                                   1 1 1 0         1 1 0 1
PRED = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
TRUTH = np.array([[1, 0, 0, 0], [1, 1, 0, 1]], bool)


def test_confusion_counts_and_ratios_by_hand():
    c = Confusion.of(PRED, TRUTH)
    assert (c.tp, c.fp, c.fn, c.tn) == (3, 2, 1, 2)
    assert c.iou == pytest.approx(3 / 6)
    assert c.dice == pytest.approx(6 / 9)
    assert c.precision == pytest.approx(3 / 5)
    assert c.recall == pytest.approx(3 / 4)
    assert c.accuracy == pytest.approx(5 / 8)
    assert c.positive_rate == pytest.approx(5 / 8)


def test_pooling_sums_counts_instead_of_averaging_ratios():
    small = Confusion.of(np.array([True, False]), np.array([True, True]))  # IoU 1/2
    big = Confusion.of(np.ones(98, bool), np.ones(98, bool))  # IoU 1
    pooled = Confusion()
    pooled += small
    pooled += big
    assert pooled.iou == pytest.approx(99 / 100)
    assert pooled.iou != pytest.approx((small.iou + big.iou) / 2)


def test_empty_prediction_of_empty_truth_is_perfect_and_shape_mismatch_fails():
    empty = Confusion.of(np.zeros((3, 3), bool), np.zeros((3, 3), bool))
    assert empty.iou == 1.0 and empty.positive_rate == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        Confusion.of(np.zeros((2, 2)), np.zeros((2, 3)))


def test_keras_metrics_are_pooled_over_batches_and_match_numpy():
    from personseg.training.metrics import training_metrics

    rng = np.random.default_rng(0)
    y_true = (rng.uniform(size=(6, 8, 8, 1)) > 0.6).astype("float32")
    y_prob = rng.uniform(size=(6, 8, 8, 1)).astype("float32")
    expected = Confusion.of(y_prob >= 0.5, y_true > 0.5)
    metrics = {m.name: m for m in training_metrics()}
    for start in (0, 1, 4):  # uneven batches: per-batch averaging would differ
        stop = {0: 1, 1: 4, 4: 6}[start]
        for m in metrics.values():
            m.update_state(y_true[start:stop], y_prob[start:stop])
    assert float(metrics["iou"].result()) == pytest.approx(expected.iou, abs=1e-6)
    assert float(metrics["dice"].result()) == pytest.approx(expected.dice, abs=1e-6)
    assert float(metrics["precision"].result()) == pytest.approx(expected.precision, abs=1e-6)
    assert float(metrics["recall"].result()) == pytest.approx(expected.recall, abs=1e-6)
    assert float(metrics["accuracy"].result()) == pytest.approx(expected.accuracy, abs=1e-6)


def test_losses_by_hand():
    from personseg.training.losses import bce_dice_loss, bce_loss, dice_loss, focal_loss

    y_true = np.array([[1.0, 0.0], [1.0, 0.0]], "float32")
    y_pred = np.array([[0.8, 0.1], [0.6, 0.3]], "float32")
    bce = -np.mean(np.log([0.8, 0.9, 0.6, 0.7]))
    dice = 1 - (2 * 1.4 + 1) / (2 + 1.8 + 1)
    assert float(bce_loss(y_true, y_pred)) == pytest.approx(bce, rel=1e-4)
    assert float(dice_loss(y_true, y_pred)) == pytest.approx(dice, rel=1e-5)
    assert float(bce_dice_loss(y_true, y_pred)) == pytest.approx(bce + dice, rel=1e-4)
    p_t = np.array([0.8, 0.9, 0.6, 0.7])
    alpha_t = np.array([0.25, 0.75, 0.25, 0.75])
    focal = np.mean(-alpha_t * (1 - p_t) ** 2 * np.log(p_t))
    assert float(focal_loss(y_true, y_pred)) == pytest.approx(focal, rel=1e-4)
    perfect = dice_loss(y_true, y_true)
    assert float(perfect) == pytest.approx(0.0, abs=1e-6)


def test_lovasz_is_one_minus_iou_for_hard_predictions_and_pooled_over_the_batch():
    from personseg.training.losses import bce_loss, bce_lovasz_loss, lovasz_loss

    rng = np.random.default_rng(2)
    truth = (rng.uniform(size=(3, 6, 6, 1)) < 0.4).astype("float32")
    truth[2] = 0.0  # a photo without people: pooled, it only adds to the union
    pred = (rng.uniform(size=truth.shape) < 0.5).astype("float32")
    iou = np.sum(truth * pred) / np.sum(np.maximum(truth, pred))
    assert float(lovasz_loss(truth, pred)) == pytest.approx(1 - iou, abs=1e-6)
    assert float(lovasz_loss(truth, truth)) == pytest.approx(0.0, abs=1e-7)
    soft = np.clip(pred * 0.6 + 0.2, 0, 1).astype("float32")  # same side of 0.5, errors 0.2 / 0.8
    assert float(lovasz_loss(truth, soft)) == pytest.approx(0.2 + 0.6 * (1 - iou), abs=1e-6)
    assert float(bce_lovasz_loss(truth, soft)) == pytest.approx(
        float(bce_loss(truth, soft)) + float(lovasz_loss(truth, soft)), rel=1e-6)
