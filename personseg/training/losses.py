"""Segmentation losses for a sigmoid output: BCE, soft Dice, BCE+Dice (default) and focal.

Registered as Keras serializables so a training checkpoint (`last.keras`) reloads for --resume.
"""

from __future__ import annotations

import keras
from keras import ops

_EPS = 1e-6


@keras.saving.register_keras_serializable(package="personseg")
def bce_loss(y_true, y_pred):
    """Mean binary cross-entropy over all pixels."""
    return ops.mean(keras.losses.binary_crossentropy(y_true, y_pred))


@keras.saving.register_keras_serializable(package="personseg")
def dice_loss(y_true, y_pred):
    """1 − soft Dice, pooled over the whole batch (stable when an image has no person)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    intersection = ops.sum(y_true * y_pred)
    total = ops.sum(y_true) + ops.sum(y_pred)
    return 1.0 - (2.0 * intersection + 1.0) / (total + 1.0)


@keras.saving.register_keras_serializable(package="personseg")
def bce_dice_loss(y_true, y_pred):
    """BCE for per-pixel calibration plus Dice against the foreground/background imbalance."""
    return bce_loss(y_true, y_pred) + dice_loss(y_true, y_pred)


@keras.saving.register_keras_serializable(package="personseg")
def focal_loss(y_true, y_pred, gamma: float = 2.0, alpha: float = 0.25):
    """Binary focal loss (Lin et al. 2017): down-weights easy pixels."""
    y_true = ops.cast(y_true, y_pred.dtype)
    p = ops.clip(y_pred, _EPS, 1.0 - _EPS)
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    alpha_t = y_true * alpha + (1.0 - y_true) * (1.0 - alpha)
    return ops.mean(-alpha_t * ops.power(1.0 - p_t, gamma) * ops.log(p_t))


LOSSES = {"bce": bce_loss, "dice": dice_loss, "bce_dice": bce_dice_loss, "focal": focal_loss}


def get_loss(name: str):
    """Loss function by its CLI name."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}")
    return LOSSES[name]
