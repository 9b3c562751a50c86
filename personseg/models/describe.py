"""A model on one screen: parameters, multiply-adds at an input size, output shape, and one row
per level — a run of consecutive layers at the same stride — instead of `model.summary()`.

Multiply-adds (MACs) are counted from layer shapes for the layers that do nearly all the work:
Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose and Dense. Bias adds, BatchNorm,
activations, pooling and resizing are left out (as in the usual MobileNet-style counts).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import keras
from keras import layers


def layer_macs(layer: keras.layers.Layer, in_shape: tuple, out_shape: tuple) -> int:
    """Multiply-adds of one call of `layer` for one image (shapes include the batch axis)."""
    if isinstance(layer, layers.Conv2DTranspose):  # every input pixel meets the whole kernel
        kh, kw = layer.kernel_size
        return math.prod(in_shape[1:]) * kh * kw * layer.filters
    if isinstance(layer, layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        pixels, depth = out_shape[1] * out_shape[2], in_shape[-1] * layer.depth_multiplier
        return pixels * depth * (kh * kw + layer.filters)
    if isinstance(layer, layers.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return math.prod(out_shape[1:3]) * in_shape[-1] * layer.depth_multiplier * kh * kw
    if isinstance(layer, layers.Conv2D):
        kh, kw = layer.kernel_size
        return math.prod(out_shape[1:]) * kh * kw * (in_shape[-1] // layer.groups)
    if isinstance(layer, layers.Dense):
        return math.prod(in_shape[1:]) * layer.units
    return 0


@dataclass
class Level:
    """Consecutive layers whose output has the same stride (input size / output height)."""

    stride: int | None
    shape: tuple  # output H, W, C of the level's last layer
    first: str
    last: str
    layers: int = 0
    params: int = 0
    macs: int = 0


@dataclass
class Description:
    name: str
    size: tuple[int, int]
    params: int
    trainable_params: int
    macs: int
    output_shape: tuple
    levels: list[Level] = field(default_factory=list)

    def headline(self) -> str:
        height, width = self.size
        return (f"{self.name}: {self.params:,} parameters ({self.trainable_params:,} trainable), "
                f"{_count(self.macs)} multiply-adds at {height}×{width}, output {self.output_shape}")

    def table(self) -> str:
        """One line per level: stride, output shape, layer count, parameters, MACs, layer names."""
        lines = [f"{'stride':>6}  {'output':<13}{'layers':>6}{'params':>11}{'M MACs':>9}  first … last layer"]
        for level in self.levels:
            stride = "-" if level.stride is None else str(level.stride)
            shape = "×".join(str(d) for d in level.shape)
            lines.append(f"{stride:>6}  {shape:<13}{level.layers:>6}{level.params:>11,}"
                         f"{level.macs / 1e6:>9.1f}  {level.first} … {level.last}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.headline()}\n{self.table()}"


def _flat_layers(model: keras.Model) -> Iterator[keras.layers.Layer]:
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat_layers(layer)
        elif not isinstance(layer, layers.InputLayer):
            yield layer


def _shape(tensor) -> tuple:
    return tuple(tensor[0].shape if isinstance(tensor, (list, tuple)) else tensor.shape)


def _stride(size: int, out_shape: tuple) -> int | None:
    """The power of two nearest size / output height (padding layers add a pixel or two)."""
    if len(out_shape) != 4 or not out_shape[1]:
        return None
    return 2 ** round(math.log2(size / out_shape[1]))


def _count(n: int) -> str:
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.1f} M"


def describe(model: keras.Model, size: int | tuple[int, int] | None = None,
             name: str | None = None) -> Description:
    """Parameters, MACs at `size` (N or (H, W); default the model's own fixed input size), output
    shape and levels of `model`, headed by `name` (default the model's). A model built for any
    size is rebuilt at `size` to count."""
    fixed = tuple(model.input_shape[1:3])
    if size is None:
        if None in fixed:
            raise ValueError(f"{model.name} takes any input size: give the size to count at")
        size = fixed
    size = (size, size) if isinstance(size, int) else tuple(size)
    if fixed != size:
        if size[0] != size[1]:
            raise ValueError(f"models are rebuilt at square sizes; got {size}")
        from personseg.models.loading import at_size

        model = at_size(model, size[0])
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    description = Description(name or model.name, size, model.count_params(), trainable, 0,
                              model.output_shape)
    for layer in _flat_layers(model):
        in_shape, out_shape = _shape(layer.input), _shape(layer.output)
        macs = layer_macs(layer, in_shape, out_shape)
        stride = _stride(size[0], out_shape)
        levels = description.levels
        if not levels or (stride is not None and stride != levels[-1].stride):
            levels.append(Level(stride, out_shape[1:], layer.name, layer.name))
        level = levels[-1]
        level.layers += 1
        level.params += layer.count_params()
        level.macs += macs
        level.last = layer.name
        if stride is not None and not isinstance(layer, layers.ZeroPadding2D):
            level.shape = out_shape[1:]  # what the level passes on, not a padded copy
        description.macs += macs
    return description
