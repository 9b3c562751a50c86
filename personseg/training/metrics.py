"""Keras training metrics, pooled over the whole epoch like `personseg.evaluation.metrics.Confusion`.

A target's optional second channel is a per-pixel weight (`personseg.training.losses.split_target`):
pixels of weight 0 are not counted."""

from __future__ import annotations

import keras
from keras import ops

from personseg.training.losses import has_weight, split_target


@keras.saving.register_keras_serializable(package="personseg")
class PooledDice(keras.metrics.Metric):
    """Dice = 2TP / (2TP + FP + FN) with counts summed over every batch of the epoch."""

    def __init__(self, threshold: float = 0.5, name: str = "dice", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.tp = self.add_variable((), initializer="zeros", name="tp", dtype="float64")
        self.fp_fn = self.add_variable((), initializer="zeros", name="fp_fn", dtype="float64")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, weight = split_target(y_true, "float64")
        pred = ops.cast(y_pred >= self.threshold, "float64")
        truth = ops.cast(y_true >= 0.5, "float64")
        self.tp.assign_add(ops.sum(weight * pred * truth))
        self.fp_fn.assign_add(ops.sum(weight * ops.abs(pred - truth)))

    def result(self):
        den = 2.0 * self.tp + self.fp_fn
        return ops.where(den > 0, 2.0 * self.tp / ops.maximum(den, 1.0), 1.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


def _hard_targets(metric_class: type) -> type:
    """The metric, reading targets ≥ 0.5 as person (distillation targets are soft blends, and
    Keras' Precision/Recall would count any non-zero target as person) and a target's weight
    channel as the sample weight of each pixel."""

    class HardTargets(metric_class):
        def update_state(self, y_true, y_pred, sample_weight=None):
            with_weight = has_weight(y_true)
            y_true, weight = split_target(y_true, y_pred.dtype)
            hard = ops.cast(ops.greater_equal(y_true, 0.5), y_pred.dtype)
            if with_weight:
                sample_weight = weight if sample_weight is None else weight * sample_weight
                if "int" in str(self.dtype):  # IoU counts in integers; the weights are 0 or 1
                    sample_weight = ops.cast(sample_weight, self.dtype)
            return super().update_state(hard, y_pred, sample_weight)

    HardTargets.__name__ = HardTargets.__qualname__ = f"Hard{metric_class.__name__}"
    return keras.saving.register_keras_serializable(package="personseg")(HardTargets)


HardBinaryIoU = _hard_targets(keras.metrics.BinaryIoU)
HardPrecision = _hard_targets(keras.metrics.Precision)
HardRecall = _hard_targets(keras.metrics.Recall)
HardBinaryAccuracy = _hard_targets(keras.metrics.BinaryAccuracy)


def training_metrics(threshold: float = 0.5) -> list[keras.metrics.Metric]:
    """IoU, Dice, precision, recall and pixel accuracy at `threshold`, pooled per epoch; targets
    (soft under distillation) count as person from 0.5."""
    return [
        HardBinaryIoU(target_class_ids=[1], threshold=threshold, name="iou"),
        PooledDice(threshold=threshold, name="dice"),
        HardPrecision(thresholds=threshold, name="precision"),
        HardRecall(thresholds=threshold, name="recall"),
        HardBinaryAccuracy(threshold=threshold, name="accuracy"),
    ]
