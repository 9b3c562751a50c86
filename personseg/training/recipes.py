"""The notebook's training recipes: a minute or two on a CPU, or a real run on a GPU.

`Model.ipynb` picks one with `choose_recipe(RECIPE, gpus)` — with RECIPE "auto": "gpu" when
TensorFlow sees a GPU, else "cpu" — and builds its run with `recipe_config`. A recipe names the
`TrainConfig` fields it sets (everything else is TrainConfig's one set of defaults, the same as
`personseg train`) and the notebook's own settings: photos to download, images to score.
"""

from __future__ import annotations

from dataclasses import dataclass

from personseg.errors import OptionError
from personseg.training.config import TrainConfig


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    train: dict  # the TrainConfig fields it sets
    download_images: int  # COCO person photos a notebook fetches for `train` (val: a quarter)
    eval_limit: int | None  # validation images the notebook scores (None: all)


RECIPES = {
    "cpu": Recipe(
        "cpu", "a minute or two on a CPU: the fast model's U-Net (MobileNetV2 0.35 from ImageNet) at "
        "160 px, 4 short epochs; learns rough people",
        dict(model="unet", encoder="mobilenetv2", encoder_alpha=0.35, encoder_weights="imagenet",
             decoder_filters=[64, 48, 32, 24, 16], size=160, batch_size=8, epochs=4, steps_per_epoch=25,
             lr=2e-3, encoder_lr_multiplier=0.3, warmup_epochs=0.5),
        download_images=300, eval_limit=48),
    "gpu": Recipe(
        "gpu", "the shipped U-Net's architecture and size (MobileNetV2 1.0 from ImageNet, 256 px) "
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
    return TrainConfig.for_run(data=data, val=val, out=out, **{**fields, **overrides})
