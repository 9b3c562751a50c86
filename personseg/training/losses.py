"""Segmentation losses for a sigmoid output: BCE, soft Dice, BCE+Dice (default), focal, and
BCE+Lovász (the Lovász extension of the pooled IoU, Berman et al. 2018: the measure we report).

Targets may carry a second channel, a per-pixel loss weight (`split_target`): 0 leaves a pixel
out of the loss entirely (it changes no gradient), e.g. a person box the teacher missed
(`personseg.data.box_set`). Every loss here is a weighted mean over the weighted pixels.
Registered as Keras serializables so a training checkpoint (`last.keras`) reloads for --resume.
"""

from __future__ import annotations

import keras
from keras import ops

_EPS = 1e-6


def split_target(y_true, dtype="float32"):
    """(target, weight): for a B×H×W×2 target, its first channel and its second as the per-pixel
    weight; any other target as it is, with a weight of ones."""
    y_true = ops.cast(y_true, dtype)
    if has_weight(y_true):
        return y_true[..., :1], y_true[..., 1:]
    return y_true, ops.ones_like(y_true)


def has_weight(y_true) -> bool:
    """True for a B×H×W×2 target (the second channel is a per-pixel weight)."""
    return len(y_true.shape) == 4 and y_true.shape[-1] == 2


def _weighted_mean(values, weight):
    return ops.sum(values * weight) / ops.maximum(ops.sum(weight), 1.0)


@keras.saving.register_keras_serializable(package="personseg")
def bce_loss(y_true, y_pred):
    """Mean binary cross-entropy over the (weighted) pixels."""
    y_true, weight = split_target(y_true, y_pred.dtype)
    p = ops.clip(y_pred, _EPS, 1.0 - _EPS)
    bce = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return _weighted_mean(bce, weight)


@keras.saving.register_keras_serializable(package="personseg")
def dice_loss(y_true, y_pred):
    """1 − soft Dice, pooled over the whole batch (stable when an image has no person)."""
    y_true, weight = split_target(y_true, y_pred.dtype)
    intersection = ops.sum(weight * y_true * y_pred)
    total = ops.sum(weight * y_true) + ops.sum(weight * y_pred)
    return 1.0 - (2.0 * intersection + 1.0) / (total + 1.0)


@keras.saving.register_keras_serializable(package="personseg")
def bce_dice_loss(y_true, y_pred):
    """BCE for per-pixel calibration plus Dice against the foreground/background imbalance."""
    return bce_loss(y_true, y_pred) + dice_loss(y_true, y_pred)


@keras.saving.register_keras_serializable(package="personseg")
def focal_loss(y_true, y_pred, gamma: float = 2.0, alpha: float = 0.25):
    """Binary focal loss (Lin et al. 2017): down-weights easy pixels."""
    y_true, weight = split_target(y_true, y_pred.dtype)
    p = ops.clip(y_pred, _EPS, 1.0 - _EPS)
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    alpha_t = y_true * alpha + (1.0 - y_true) * (1.0 - alpha)
    return _weighted_mean(-alpha_t * ops.power(1.0 - p_t, gamma) * ops.log(p_t), weight)


def _lovasz_gradient(truth_sorted):
    """The Lovász extension's weights for pixels sorted by error: the IoU loss added by each."""
    total = ops.sum(truth_sorted)
    intersection = total - ops.cumsum(truth_sorted)
    union = total + ops.cumsum(1.0 - truth_sorted)
    jaccard = 1.0 - intersection / union
    return ops.concatenate([jaccard[:1], jaccard[1:] - jaccard[:-1]], axis=0)


@keras.saving.register_keras_serializable(package="personseg")
def lovasz_loss(y_true, y_pred):
    """Lovász-softmax for the person class, pooled over the batch: a convex surrogate of 1 − IoU
    at threshold 0.5 (equal to it for 0/1 predictions). The target is binarised at 0.5 (a
    teacher's soft map counts as person where it says so); pixels of weight 0 are left out."""
    y_true, weight = split_target(y_true, "float32")
    person = ops.reshape(ops.cast((y_true >= 0.5) & (weight > 0), "float32"), (-1,))
    errors = ops.abs(person - ops.reshape(ops.cast(y_pred, "float32"), (-1,)))
    errors = errors * ops.reshape(ops.cast(weight > 0, "float32"), (-1,))  # left-out pixels: 0, last
    order = ops.argsort(-errors)
    return ops.sum(ops.take(errors, order) * _lovasz_gradient(ops.take(person, order)))


@keras.saving.register_keras_serializable(package="personseg")
def bce_lovasz_loss(y_true, y_pred):
    """BCE for per-pixel calibration plus Lovász for the IoU itself (fine-tuning)."""
    return bce_loss(y_true, y_pred) + ops.cast(lovasz_loss(y_true, y_pred), y_pred.dtype)


LOSSES = {"bce": bce_loss, "dice": dice_loss, "bce_dice": bce_dice_loss, "focal": focal_loss,
          "lovasz": lovasz_loss, "bce_lovasz": bce_lovasz_loss}


def get_loss(name: str):
    """Loss function by its CLI name."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}")
    return LOSSES[name]
