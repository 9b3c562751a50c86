"""Keras runtime: any model saved by personseg (`.h5` inference model or `.keras` checkpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.backends.runtime import fixed_or_requested_size
from personseg.errors import UserError


class KerasBackend:
    """Runs a Keras model; `size` is required only for models saved with a dynamic input size.

    It takes any H×W (`any_size`): a batch of another shape than the file's runs on the same
    network rebuilt with a free input size (`models.loading.at_size`), built once when needed."""

    any_size = True

    def __init__(self, path: str | Path, size: int | None = None):
        from personseg.models.loading import check_segmentation_model, load_keras_model

        self.path = Path(path)
        self.model = load_keras_model(path)
        check_segmentation_model(self.model, path)
        height, width = self.model.input_shape[1:3]
        self.input_size = fixed_or_requested_size(path, height, width, size)
        self._fixed = height is not None and width is not None
        self._infer = {}  # True: the file's own input shape; False: the free-size rebuild

    def _function(self, native: bool):
        if native not in self._infer:
            import tensorflow as tf

            model = self.model
            if not native:
                from personseg.models.loading import at_size

                try:
                    model = at_size(self.model, None)
                except Exception as exc:  # a layer that cannot be rebuilt with a free size
                    raise UserError(f"{self.path}: this model runs only at {self.input_size[0]}×"
                                    f"{self.input_size[1]} ({exc}); use framing 'square'") from exc
            self._infer[native] = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return self._infer[native]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        native = not self._fixed or tuple(batch.shape[1:3]) == tuple(self.input_size)
        out = self._function(native)(batch)
        return np.asarray(out, dtype=np.float32)[..., 0]
