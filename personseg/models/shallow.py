"""The shallow encoder-decoder ("autoencoder") personseg started from, fixed and modernised."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from personseg.models.blocks import check_output_stride, conv_bn_relu, sigmoid_head, upsample


def build_shallow(
    input_shape: tuple[int | None, int | None, int] = (None, None, 3),
    filters: Sequence[int] = (16, 32, 64, 128),
    upsampling: str = "bilinear",
    separable: bool = False,
    output_stride: int = 1,
    name: str = "shallow",
) -> keras.Model:
    """A few strided conv blocks down, the same up, additive skips, BatchNorm, sigmoid output.

    Input: RGB in 0–255 (scaled inside the model). Output: H×W×1 person probability.
    H and W must be divisible by `output_stride * 2 ** (len(filters) - 1)`.

    The defaults are the original dense, full-resolution network. `separable=True` (every
    convolution after the stem) and `output_stride=2` (strided stem, logits upsampled ×2 at the
    end) cut its work ~25×: what makes it faster than MediaPipe's selfie model on a CPU.
    """
    check_output_stride(output_stride, (1, 2))
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(inputs)
    x = conv_bn_relu(x, filters[0], "stem", strides=output_stride)
    skips = [x]
    for i, width in enumerate(filters[1:], start=1):
        x = conv_bn_relu(x, width, f"down{i}", strides=2, separable=separable)
        x = conv_bn_relu(x, width, f"down{i}b", separable=separable)
        skips.append(x)
    for i in range(len(filters) - 2, -1, -1):
        x = upsample(x, filters[i], f"up{i}", mode=upsampling)
        x = conv_bn_relu(x, filters[i], f"up{i}", separable=separable)
        x = layers.Add(name=f"up{i}_skip")([x, skips[i]])
    return keras.Model(inputs, sigmoid_head(x, output_stride), name=name)
