"""Training-time image operations in TensorFlow: decoding a pair, the letterbox, augmentation.

Aspect ratio, on purpose: validation letterboxes each image into size×size (scaled so the longer
side fits, centred, black padding: the same framing as inference's `square`, see
`personseg.inference.letterbox`). Training takes a random scale of that letterbox (zoom
0.6–1.6×: zoom-out teaches small people, zoom-in large ones), pads if needed, and crops
size×size at a random place, so the aspect ratio is never distorted. Image and mask always get
the same geometry; masks stay binary. A teacher's probability map (distillation) travels as a
second mask channel, so it gets exactly the geometry of the image and the ground truth.
Copy-paste moves people, with their masks, from one training photo onto another.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def decode_rgb(image_path: tf.Tensor) -> tf.Tensor:
    """Read an RGB uint8 H×W×3 image."""
    image = tf.io.decode_image(tf.io.read_file(image_path), channels=3, expand_animations=False)
    return tf.ensure_shape(image, (None, None, 3))


def decode_mask(mask_path: tf.Tensor) -> tf.Tensor:
    """Read a {0,1} uint8 H×W×1 mask (PNG pixels > 127 are 1)."""
    return tf.cast(tf.io.decode_png(tf.io.read_file(mask_path), channels=1) > 127, tf.uint8)


def decode_pair(image_path: tf.Tensor, mask_path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Read an RGB uint8 image and a {0,1} uint8 mask of the same size."""
    return decode_rgb(image_path), decode_mask(mask_path)


def decode_teacher(path: tf.Tensor) -> tf.Tensor:
    """A cached teacher map: uint8 H×W×1, person probability × 255 (see personseg.training.teacher)."""
    return tf.io.decode_png(tf.io.read_file(path), channels=1)


def _place(image, mask, scale, size: int, offset):
    """Resize by `scale`, pad to ≥ size, crop size×size at `offset` ∈ [0,1]²; keeps masks binary.

    `mask` may carry more channels (a teacher map beside the ground truth): all get the same
    nearest-neighbour geometry, so they stay aligned with the image and with each other."""
    channels = mask.shape[-1]  # static; tf.pad with computed paddings loses it
    hw = tf.cast(tf.shape(image)[:2], tf.float32)
    new_hw = tf.maximum(tf.cast(tf.round(hw * scale), tf.int32), 1)
    image = tf.image.resize(image, new_hw, method="bilinear", antialias=True)
    mask = tf.image.resize(mask, new_hw, method="nearest")
    pad_hw = tf.maximum(size - new_hw, 0)
    before = tf.cast(tf.round(tf.cast(pad_hw, tf.float32) * offset), tf.int32)
    paddings = tf.stack([before, pad_hw - before], axis=1)
    paddings = tf.concat([paddings, [[0, 0]]], axis=0)
    image = tf.pad(image, paddings)
    mask = tf.pad(mask, paddings)
    extra = tf.shape(image)[:2] - size
    start = tf.cast(tf.round(tf.cast(extra, tf.float32) * offset), tf.int32)
    image = image[start[0] : start[0] + size, start[1] : start[1] + size]
    mask = mask[start[0] : start[0] + size, start[1] : start[1] + size]
    return tf.ensure_shape(image, (size, size, 3)), tf.ensure_shape(mask, (size, size, channels))


def letterbox(image: tf.Tensor, mask: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Deterministic, centred letterbox (the inference twin is personseg.inference.letterbox)."""
    hw = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_max(hw)
    image, mask = _place(image, mask, scale, size, tf.constant([0.5, 0.5]))
    return image, mask


def augment(image, mask, size: int, seed: tf.Tensor, zoom=(0.6, 1.6)):
    """Random zoom/crop, horizontal flip and colour jitter, identical geometry for the mask."""
    seeds = tf.random.experimental.stateless_split(seed, 8)
    hw = tf.cast(tf.shape(image)[:2], tf.float32)
    zoom_factor = tf.exp(
        tf.random.stateless_uniform([], seeds[0], np.log(zoom[0]), np.log(zoom[1]))
    )
    scale = size / tf.reduce_max(hw) * zoom_factor
    offset = tf.random.stateless_uniform([2], seeds[1])
    image, mask = _place(image, mask, scale, size, offset)
    flip = tf.random.stateless_uniform([], seeds[2]) < 0.5
    image = tf.cond(flip, lambda: tf.reverse(image, [1]), lambda: image)
    mask = tf.cond(flip, lambda: tf.reverse(mask, [1]), lambda: mask)
    image = image / 255.0
    image = tf.image.stateless_random_brightness(image, 0.15, seeds[3])
    image = tf.image.stateless_random_contrast(image, 0.75, 1.25, seeds[4])
    image = tf.image.stateless_random_saturation(image, 0.7, 1.3, seeds[5])
    image = tf.image.stateless_random_hue(image, 0.04, seeds[6])
    image = tf.clip_by_value(image, 0.0, 1.0) * 255.0
    return image, mask


def paste_people(image, mask, donor_image, donor_mask, seed: tf.Tensor, probability: float):
    """With `probability`, paste the donor's people (pixels of its ground-truth channel) onto the
    image — a person cut out with its mask, on another photo (Ghiasi et al., "Simple Copy-Paste").
    Every mask channel takes the donor's value where the donor has a person, so the ground truth
    becomes the union and a teacher map follows the pasted pixels."""
    person = donor_mask[..., :1] > 0
    paste = tf.random.stateless_uniform([], seed) < probability
    image = tf.where(paste & person, donor_image, image)
    mask = tf.where(paste & person, donor_mask, mask)
    return image, mask
