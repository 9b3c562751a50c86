"""Keras runtime: any model saved by personseg (`.h5` inference model or `.keras` checkpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.backends.runtime import fixed_or_requested_size


class KerasBackend:
    """Runs a Keras model; `size` is required only for models saved with a dynamic input size."""

    def __init__(self, path: str | Path, size: int | None = None):
        from personseg.models.loading import check_segmentation_model, load_keras_model

        self.model = load_keras_model(path)
        check_segmentation_model(self.model, path)
        height, width = self.model.input_shape[1:3]
        self.input_size = fixed_or_requested_size(path, height, width, size)
        self._infer = None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self._infer is None:
            import tensorflow as tf

            self._infer = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True)
        out = self._infer(np.asarray(batch, dtype=np.float32))
        return np.asarray(out, dtype=np.float32)[..., 0]
