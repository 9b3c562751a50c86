"""Test doubles for inference: backends with known outputs, and a tiny saved Keras model."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class ChannelBackend:
    """Backend whose 'probability' is the letterboxed input's red channel / 255.

    So the expected output of any pipeline is computable from the input pixels alone, and a
    misplaced crop shows up as black padding leaking into the result.
    """

    def __init__(self, size: int = 64):
        self.input_size = (size, size)
        self.batch_sizes: list[int] = []

    def predict(self, batch: np.ndarray) -> np.ndarray:
        assert batch.dtype == np.float32 and batch.ndim == 4 and batch.shape[3] == 3
        assert batch.shape[1:3] == self.input_size
        self.batch_sizes.append(len(batch))
        return batch[..., 0] / 255.0


def probability_image(prob: np.ndarray) -> np.ndarray:
    """An RGB uint8 image whose red channel makes ChannelBackend return ≈ `prob`."""
    red = np.rint(np.asarray(prob, np.float64) * 255).astype(np.uint8)
    return np.stack([red, np.zeros_like(red), np.full_like(red, 77)], axis=-1)


def save_tiny_model(path: Path, size: int = 64) -> Path:
    """A randomly initialised shallow model with a fixed size×size input, saved as .h5."""
    import keras

    from personseg.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("shallow", (size, size, 3), filters=(4, 8))
    model.save(path)
    return path
