"""Build options: the `TrainConfig` architecture fields a model carries (`personseg/pretrained/
NAME.json` for a packaged model, a run's config.json): which ones a model has
(`build_options_of`), and whether a model file holds the network they describe
(`build_problem`; the tests check every packaged model, `scripts/ship_model.py` a new file
before it ships)."""

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


def build_options_of(model: str) -> dict:
    """The build options a model carries: a packaged model's own JSON (`pretrained:NAME`), or a
    run's config.json beside a model file; {} when the file has none."""
    from personseg.backends.refs import KERAS_KINDS, parse_ref

    ref = parse_ref(model, "init", KERAS_KINDS)
    if ref.kind == "pretrained":
        from personseg.pretrained import build_options

        return build_options(ref.name)
    run_config = Path(ref.name).parent / "config.json"
    return TrainConfig.load(run_config).build_options() if run_config.is_file() else {}
