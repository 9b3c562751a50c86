"""Layer blocks shared by the model builders (plain Keras layers only, so saved models load
anywhere without personseg)."""

from __future__ import annotations

import keras
from keras import layers

# Keras' default 0.99 needs ~1000 steps for moving statistics to forget their initial variance
# of 1; freshly initialised (separable) convolutions have activation variances of ~1e-3, so
# inference-mode outputs stay near-constant for epochs. 0.9 (PyTorch's default) adapts in ~50.
BN_MOMENTUM = 0.9


def conv_bn_relu(
    x: keras.KerasTensor, filters: int, name: str, *, separable: bool = False, strides: int = 1
) -> keras.KerasTensor:
    """3×3 (separable) convolution → BatchNorm → ReLU; no conv bias since BN adds one."""
    conv = layers.SeparableConv2D if separable else layers.Conv2D
    x = conv(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def upsample(
    x: keras.KerasTensor, filters: int, name: str, *, mode: str = "bilinear"
) -> keras.KerasTensor:
    """×2 upsampling: bilinear resize (cheap, no checkerboard) or a learned transposed conv."""
    if mode == "bilinear":
        return layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up")(x)
    if mode == "transpose":
        x = layers.Conv2DTranspose(
            filters, 2, strides=2, padding="same", use_bias=False, name=f"{name}_upconv"
        )(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_upbn")(x)
        return layers.ReLU(name=f"{name}_uprelu")(x)
    raise ValueError(f"upsampling must be 'bilinear' or 'transpose', got {mode!r}")


def sigmoid_head(x: keras.KerasTensor, output_stride: int = 1) -> keras.KerasTensor:
    """1×1 conv to one logit, bilinear ×`output_stride` back to the input size (when the decoder
    stops early), and a float32 sigmoid (float32 even under mixed precision)."""
    x = layers.Conv2D(1, 1, name="logits")(x)
    if output_stride > 1:
        x = layers.UpSampling2D(output_stride, interpolation="bilinear", name="logits_up")(x)
    return layers.Activation("sigmoid", dtype="float32", name="mask")(x)


def check_output_stride(output_stride: int, allowed: tuple[int, ...]) -> None:
    if output_stride not in allowed:
        raise ValueError(f"output_stride must be one of {allowed}, got {output_stride!r}")
