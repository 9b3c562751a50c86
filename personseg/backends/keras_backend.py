"""Keras runtime: any model saved by personseg (`.h5` inference model or `.keras` checkpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.errors import UserError


class KerasBackend:
    """Runs a Keras model; `size` is required only for models saved with a dynamic input size."""

    def __init__(self, path: str | Path, size: int | None = None):
        import keras

        import personseg.keras_metrics  # noqa: F401  (registers objects used by .keras checkpoints)
        import personseg.losses  # noqa: F401
        import personseg.optim  # noqa: F401

        try:
            self.model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise UserError(f"{path}: cannot load as a Keras model ({exc})") from exc
        height, width = self.model.input_shape[1:3]
        if height is None or width is None:
            if size is None:
                raise UserError(f"{path}: model has a dynamic input size; pass size=")
            if size % 32:
                raise UserError(f"size must be a multiple of 32, got {size}")
            height = width = size
        elif size is not None and size != height:
            raise UserError(f"{path}: model has a fixed {height}×{width} input; size={size} conflicts")
        self.input_size = (int(height), int(width))
        self._infer = None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self._infer is None:
            import tensorflow as tf

            self._infer = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)
        out = self._infer(np.asarray(batch, dtype=np.float32))
        return np.asarray(out, dtype=np.float32)[..., 0]
