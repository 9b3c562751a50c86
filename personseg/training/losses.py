"""Segmentation losses for a sigmoid output: BCE, soft Dice, BCE+Dice (default) and focal.

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


LOSSES = {"bce": bce_loss, "dice": dice_loss, "bce_dice": bce_dice_loss, "focal": focal_loss}


def get_loss(name: str):
    """Loss function by its CLI name."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}")
    return LOSSES[name]
