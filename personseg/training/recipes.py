"""The notebook's training recipes: a minute or two on a CPU, or a real run on a GPU.

`Model.ipynb` picks one with `choose_recipe(RECIPE, gpus)` — with RECIPE "auto": "gpu" when
TensorFlow sees a GPU, else "cpu" — and builds its run with `recipe_config`. A recipe names the
`TrainConfig` fields it sets (everything else is TrainConfig's one set of defaults, the same as
`personseg train`) and the notebook's own settings: photos to download, images to score.

Both start from Keras' ImageNet MobileNetV2. Beside a checkout (`../shared`) the same file is
taken from `SHARED_IMAGENET`, so no download is needed; elsewhere Keras downloads it once, and
when it cannot (offline, a proxy) `encoder_weights_ready` prints one paragraph on what to do
instead of a traceback, and the notebook skips training.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path

from personseg.errors import OptionError, UserError
from personseg.training.config import TrainConfig

# Keras' ImageNet files beside a checkout (relative to the notebook's folder, as coco_sample's data)
SHARED_IMAGENET = Path("../shared/weights/keras-applications")


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    train: dict  # the TrainConfig fields it sets
    download_images: int  # COCO person photos a notebook fetches for `train` (val: a quarter)
    eval_limit: int | None  # validation images the notebook scores (None: all)


RECIPES = {
    "cpu": Recipe(
        "cpu", "a minute or two on a CPU: a narrow U-Net (MobileNetV2 0.35 from ImageNet) at "
        "160 px, 4 short epochs; learns rough people",
        dict(model="unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights="imagenet",
             decoder_filters=[64, 48, 32, 24, 16], size=160, batch_size=8, epochs=4, steps_per_epoch=25,
             lr=2e-3, encoder_lr_multiplier=0.3, warmup_epochs=0.5),
        download_images=300, eval_limit=48),
    "gpu": Recipe(
        "gpu", "the shipped U-Net's architecture (MobileNetV2 1.0 from ImageNet) at 256 px "
        "trained on a GPU: mixed precision, batch 32, 30 full epochs with copy-paste",
        dict(model="unet", encoder="mobilenetv2", encoder_alpha=1.0, encoder_weights="imagenet", size=256,
             batch_size=32, epochs=30, steps_per_epoch=None, lr=2e-3, mixed_precision="float16",
             copy_paste=0.3),
        download_images=8000, eval_limit=None),
}


def gpu_count() -> int:
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU"))


def choose_recipe(name: str = "auto", gpus: int | None = None) -> Recipe:
    """A recipe by name; "auto" is "gpu" when there is a GPU (`gpus`, default: TensorFlow's count)."""
    if name == "auto":
        name = "gpu" if (gpu_count() if gpus is None else gpus) > 0 else "cpu"
    if name not in RECIPES:
        raise OptionError("recipe", name, f"choose auto, {', '.join(RECIPES)}")
    return RECIPES[name]


def recipe_config(recipe: Recipe, data: list[str], val: list[str], out: str, gpus: int = 0,
                  **overrides) -> TrainConfig:
    """The recipe's TrainConfig; several GPUs train with MirroredStrategy, the batch split across
    them. `overrides` change any field (unknown names are an error naming the field)."""
    fields = dict(recipe.train)
    if gpus > 1:
        fields["distribute"] = "mirrored"
    unknown = sorted(set(overrides) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise OptionError("overrides", unknown[0], "not a TrainConfig field")
    config = TrainConfig.for_run(data=data, val=val, out=out, **{**fields, **overrides})
    local = _shared_imagenet_file(config)
    return replace(config, encoder_weights=str(local)) if local else config


def _imagenet_file_name(config: TrainConfig) -> str | None:
    """Keras' ImageNet file the config's encoder starts from, or None (no ImageNet encoder)."""
    if (config.model != "unet" or config.encoder != "mobilenetv2" or config.encoder_weights != "imagenet"
            or config.init):  # a model to start from brings the encoder's weights too
        return None
    from personseg.models.encoders import mobilenetv2_weights_filename

    return mobilenetv2_weights_filename(config.encoder_alpha)


def _shared_imagenet_file(config: TrainConfig) -> Path | None:
    name = _imagenet_file_name(config)
    return SHARED_IMAGENET / name if name and (SHARED_IMAGENET / name).is_file() else None


def encoder_weights_ready(config: TrainConfig) -> bool:
    """True when the config's encoder weights are at hand: none needed, a file, or Keras' ImageNet
    file in its cache or downloaded now. False, after printing one paragraph saying what to do,
    when that download fails (offline, behind a proxy)."""
    name = _imagenet_file_name(config)
    if name is None:
        return True
    from personseg.models.encoders import resolve_imagenet_weights

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Keras' "Downloading data from ..." line
            resolve_imagenet_weights(config.encoder_alpha)
    except UserError as exc:
        reason = str(exc.__cause__ or exc).rsplit(" -- ", 1)[-1]
        cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
        print(f"Training needs Keras' ImageNet MobileNetV2 file {name}, which could not be downloaded "
              f"({reason}: offline, or behind a proxy?). Copy that file into {cache}/ (or "
              f"{SHARED_IMAGENET}/ beside this checkout) and run this cell again, or set OVERRIDES = "
              '{"encoder_weights": "none"} to train the encoder from scratch (much weaker in a few '
              "minutes). Training, and the cells that use the trained model, are skipped.")
        return False
    return True
