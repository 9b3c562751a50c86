"""Models: the builders (`build_model("unet" | "shallow", input_shape, **options)`), their
blocks and encoders, loading / resizing a saved model (`personseg.models.loading`), and
`describe(model, size)`: parameters, multiply-adds and levels on one screen (`describe`)."""

from __future__ import annotations

try:
    import keras
except ModuleNotFoundError as exc:  # one line naming the extra, not Keras' own import error
    from personseg.extras import explain_missing

    raise explain_missing(exc, "personseg.models") or exc from None

from personseg.models.describe import describe
from personseg.models.shallow import build_shallow
from personseg.models.unet import build_unet

BUILDERS = {"shallow": build_shallow, "unet": build_unet}


def build_model(name: str, input_shape=(None, None, 3), **options) -> keras.Model:
    """Build a registered architecture by name (what `personseg train --model` uses)."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(BUILDERS)}")
    return BUILDERS[name](input_shape, **options)


__all__ = ["build_model", "build_shallow", "build_unet", "describe", "BUILDERS"]
