"""Pretrained encoders for the U-Net: keras.applications backbones and their skip layers."""

from __future__ import annotations

import os
from pathlib import Path

import keras

from personseg.errors import OptionError, UserError

# Skip features at strides 2, 4, 8, 16 and the stride-32 bottleneck, as segmentation_models does.
MOBILENETV2_SKIPS = (
    "block_1_expand_relu",
    "block_3_expand_relu",
    "block_6_expand_relu",
    "block_13_expand_relu",
)
MOBILENETV2_BOTTLENECK = "out_relu"
# Block 16's output (320·alpha channels), before the final 1×1 convolution to 1280 channels: at
# alpha 0.35 that convolution and the decoder stage reading its 1280 channels are a quarter of
# the U-Net's multiply-adds.
MOBILENETV2_SLIM_BOTTLENECK = "block_16_project_BN"
# Layer-name prefixes of MobileNetV2: used to give encoder variables their own learning rate.
MOBILENETV2_PREFIXES = ("Conv1", "bn_Conv1", "expanded_conv", "block_", "Conv_1", "out_relu")
MOBILENETV2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"


def mobilenetv2_weights_filename(alpha: float) -> str:
    """Keras' own file name for the ImageNet no-top weights (224 px, any input size works)."""
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha:g}_224_no_top.h5"


def resolve_imagenet_weights(alpha: float) -> Path:
    """The standard Keras ImageNet file: from the Keras cache (`$KERAS_HOME/models`), else
    downloaded the usual Keras way. Offline machines pre-seed the cache with the same file."""
    name = mobilenetv2_weights_filename(alpha)
    try:
        cache_dir = os.environ.get("KERAS_HOME")  # read now: Keras reads it only at import
        return Path(
            keras.utils.get_file(name, _WEIGHTS_URL + name, cache_dir=cache_dir, cache_subdir="models")
        )
    except Exception as exc:  # network errors come in many types
        cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"
        raise UserError(
            f"could not get ImageNet weights {name}: {exc}. Offline? Copy the file to {cache}/ "
            "or give a weights file path instead"
        ) from exc


def build_mobilenetv2(
    inputs: keras.KerasTensor, alpha: float, weights: str | os.PathLike | None
) -> keras.Model:
    """MobileNetV2 on `inputs` (already scaled to [-1, 1]); weights 'imagenet', a path or None."""
    if alpha not in MOBILENETV2_ALPHAS:
        raise OptionError("encoder_alpha", alpha, f"must be one of {MOBILENETV2_ALPHAS}")
    encoder = keras.applications.MobileNetV2(
        input_tensor=inputs, include_top=False, weights=None, alpha=alpha
    )
    if weights is None or str(weights).lower() == "none":
        return encoder
    path = resolve_imagenet_weights(alpha) if str(weights) == "imagenet" else Path(weights)
    if not path.is_file():
        raise UserError(f"{path}: encoder weights file not found")
    try:
        encoder.load_weights(path)
    except Exception as exc:
        raise UserError(f"{path}: not MobileNetV2 alpha={alpha:g} no-top weights ({exc})") from exc
    return encoder
