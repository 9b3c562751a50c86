"""SavedModel backend for `personseg export --format savedmodel` folders (one `serve` endpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from personseg.backends.runtime import fixed_or_requested_size
from personseg.errors import UserError


class SavedModelBackend:
    """Runs the folder's `serve` endpoint (N×H×W×3 float32 RGB 0–255 → N×H×W×1 probabilities)."""

    def __init__(self, path: str | Path, size: int | None = None):
        import tensorflow as tf

        try:
            self.loaded = tf.saved_model.load(str(path))  # keep: the endpoint references its variables
            spec = self.loaded.serve.input_signature[0]
        except Exception as exc:  # TF raises OSError, ValueError, AttributeError… per problem
            raise UserError(f"{path}: cannot load as a personseg SavedModel ({exc})") from exc
        self.input_size = fixed_or_requested_size(path, spec.shape[1], spec.shape[2], size)
        self.any_size = spec.shape[1] is None and spec.shape[2] is None  # exported with --dynamic
        self._tf = tf

    def predict(self, batch: np.ndarray) -> np.ndarray:
        out = self.loaded.serve(self._tf.constant(batch, self._tf.float32))
        return np.asarray(out, dtype=np.float32)[..., 0]
