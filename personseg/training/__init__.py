"""Training: `TrainConfig` (`config`, the one set of defaults) → `train` (`loop`), with the
losses, pooled Keras metrics, optimiser and training-curve plots it uses; `distribute` runs it
on several machines (`--distribute multiworker`).

    from personseg.training import TrainConfig, train
"""

from __future__ import annotations


def __getattr__(name: str):
    # Lazy, so importing the package for TrainConfig does not start TensorFlow.
    if name == "TrainConfig":
        from personseg.training.config import TrainConfig

        return TrainConfig
    if name == "train":
        from personseg.extras import require_tensorflow

        require_tensorflow("personseg.training.train")
        from personseg.training.loop import train

        return train
    raise AttributeError(f"module 'personseg.training' has no attribute {name!r}")


__all__ = ["TrainConfig", "train"]
