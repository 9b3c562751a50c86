"""Does a model file hold the network its build options describe? Build options are the
`TrainConfig` architecture fields a model carries (`personseg/pretrained/NAME.json` for a
packaged model, a run's config.json); the tests check every packaged model with
`build_problem`, and `scripts/ship_model.py` checks a new file before it ships."""

from __future__ import annotations

from pathlib import Path

from personseg.training.config import TrainConfig


def build_problem(path: str | Path, options: dict) -> str | None:
    """Why `options` do not build the network in model file `path` (None: they do). The
    network is built at the file's input size, with no encoder weights (nothing downloads)."""
    from personseg.models import build_model
    from personseg.models.loading import load_keras_model, square_size, weight_mismatch

    config = TrainConfig(data=[], val=[], out="", encoder_weights="none", **options)
    if config.build_options() != options:
        return (f"the build options are not the {config.model} model's own: expected the fields "
                f"{', '.join(config.build_options())}")
    trained = load_keras_model(path)
    size = square_size(trained)
    mismatch = weight_mismatch(build_model(config.model, (size, size, 3), **config.model_options()), trained)
    return f"{path}: not the network its build options build ({mismatch})" if mismatch else None
