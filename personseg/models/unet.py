"""U-Net builders: from scratch, or on a pretrained MobileNetV2 encoder."""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
from keras import layers

from personseg.models.blocks import check_output_stride, conv_bn_relu, sigmoid_head, upsample
from personseg.models.encoders import (
    MOBILENETV2_BOTTLENECK,
    MOBILENETV2_SKIPS,
    MOBILENETV2_SLIM_BOTTLENECK,
    build_mobilenetv2,
)


def _decoder_block(x, skip, filters: int, name: str, separable: bool, upsampling: str):
    x = upsample(x, filters, name, mode=upsampling)
    if skip is not None:
        x = layers.Concatenate(name=f"{name}_concat")([x, skip])
    x = conv_bn_relu(x, filters, f"{name}_a", separable=separable)
    return conv_bn_relu(x, filters, f"{name}_b", separable=separable)


def build_unet(
    input_shape: tuple[int | None, int | None, int] = (None, None, 3),
    *,
    depth: int = 4,
    base_filters: int = 32,
    separable: bool = True,
    upsampling: str = "bilinear",
    encoder: str = "none",
    encoder_alpha: float = 0.35,
    encoder_weights: str | os.PathLike | None = "imagenet",
    encoder_last_conv: bool = True,
    decoder_filters: Sequence[int] = (128, 64, 48, 32, 16),
    freeze_encoder_bn: bool = True,
    output_stride: int = 1,
    name: str = "unet",
) -> keras.Model:
    """U-Net on RGB 0–255 input with a sigmoid person-probability output.

    encoder="none": `depth` levels of (separable) conv blocks, `base_filters` doubling per
    level; H, W divisible by 2**depth. encoder="mobilenetv2": keras.applications.MobileNetV2
    (`encoder_alpha`, `encoder_weights` = "imagenet" | path | None) with skips at strides
    2–16 and `decoder_filters` from stride 16 up to full resolution; H, W divisible by 32.
    Its BatchNorm layers are frozen by default: small batches would wreck their statistics.
    `encoder_last_conv=False` feeds the decoder block 16's 320·alpha channels instead of the final
    1×1 convolution's 1280 (at alpha 0.35 a quarter fewer multiply-adds, same receptive field).

    `output_stride` 2 or 4 stops the decoder at that stride and upsamples the logits bilinearly
    (as DeepLabV3+ does at 4): the full-resolution decoder stages are most of a U-Net's CPU
    time. With the MobileNetV2 encoder only the first `5 - log2(output_stride)` widths of
    `decoder_filters` are used; without it, `output_stride` must be below 2**depth.
    """
    check_output_stride(output_stride, (1, 2, 4))
    skipped_levels = output_stride.bit_length() - 1
    inputs = keras.Input(input_shape, name="image")
    if encoder == "none":
        x = layers.Rescaling(1.0 / 255.0, name="scale")(inputs)
        skips = []
        for level in range(depth):
            width = base_filters * 2**level
            x = conv_bn_relu(x, width, f"enc{level}_a", separable=separable and level > 0)
            x = conv_bn_relu(x, width, f"enc{level}_b", separable=separable)
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
        width = base_filters * 2**depth
        x = conv_bn_relu(x, width, "bottleneck_a", separable=separable)
        x = conv_bn_relu(x, width, "bottleneck_b", separable=separable)
        if skipped_levels >= depth:
            raise ValueError(f"output_stride {output_stride} needs depth > {skipped_levels}, got {depth}")
        for level in reversed(range(skipped_levels, depth)):
            x = _decoder_block(
                x, skips[level], base_filters * 2**level, f"dec{level}", separable, upsampling
            )
    elif encoder == "mobilenetv2":
        scaled = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(inputs)
        backbone = build_mobilenetv2(scaled, encoder_alpha, encoder_weights)
        if freeze_encoder_bn:
            for layer in backbone.layers:
                if isinstance(layer, layers.BatchNormalization):
                    layer.trainable = False
        skips = [backbone.get_layer(n).output for n in MOBILENETV2_SKIPS]
        bottleneck = MOBILENETV2_BOTTLENECK if encoder_last_conv else MOBILENETV2_SLIM_BOTTLENECK
        x = backbone.get_layer(bottleneck).output
        if len(decoder_filters) != len(skips) + 1:
            raise ValueError(f"decoder_filters needs {len(skips) + 1} widths, got {decoder_filters}")
        for i, width in enumerate(decoder_filters[: len(decoder_filters) - skipped_levels]):
            skip = skips[-1 - i] if i < len(skips) else None
            x = _decoder_block(x, skip, width, f"dec{len(decoder_filters) - 1 - i}", separable, upsampling)
    else:
        raise ValueError(f"encoder must be 'none' or 'mobilenetv2', got {encoder!r}")
    return keras.Model(inputs, sigmoid_head(x, output_stride), name=name)
