"""Keras runtime: any model saved by personseg (`.h5` inference model or `.keras` checkpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.backends.metadata import h5_framing
from personseg.backends.runtime import fixed_or_requested_size
from personseg.errors import UserError
from personseg.limits import check_size


class KerasBackend:
    """Runs a Keras model; `size` is required only for models saved with a dynamic input size,
    and runs a fixed-size one at size×size instead of its own (like a free-size export).

    Batches of `input_size` run on the file's own network; any other H×W (the `fit` framing) on
    the same network rebuilt with a free input size (`models.loading.at_size`), built once, on
    first use or when `any_size` is asked (False if the model cannot be rebuilt so). `framing`: the
    one an `.h5` file records (`personseg.backends.metadata`), else `square`."""

    def __init__(self, path: str | Path, size: int | None = None):
        from personseg.models.loading import check_segmentation_model, load_keras_model

        self.path = Path(path)
        self.model = load_keras_model(path)
        check_segmentation_model(self.model, path)
        self.framing = h5_framing(path)
        height, width = self._own = tuple(self.model.input_shape[1:3])
        self._infer: dict[bool, object] = {}  # True: the file's own network; False: the free-size one
        self._rebuild_error: str | None = None
        if size is not None and height is not None and (size, size) != (height, width):
            check_size(size)
            if not self.any_size:
                raise UserError(f"{path}: model has a fixed {height}×{width} input; size={size} conflicts")
            self.input_size = (size, size)
        else:
            self.input_size = fixed_or_requested_size(path, height, width, size)

    @property
    def any_size(self) -> bool:
        try:
            self._function(native=False)
        except UserError:
            return False
        return True

    def _function(self, native: bool):
        if native not in self._infer:
            import tensorflow as tf

            model = self.model
            if not native:
                if self._rebuild_error:
                    raise UserError(self._rebuild_error)
                from personseg.models.loading import at_size

                try:
                    model = at_size(self.model, None)
                except Exception as exc:  # a layer that cannot be rebuilt with a free size
                    self._rebuild_error = (f"{self.path}: this model runs only at {self._own[0]}×"
                                           f"{self._own[1]} ({exc}); use framing 'square'")
                    raise UserError(self._rebuild_error) from exc
            self._infer[native] = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return self._infer[native]

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        out = self._function(native=tuple(batch.shape[1:3]) == self._own)(batch)
        return np.asarray(out, dtype=np.float32)[..., 0]
