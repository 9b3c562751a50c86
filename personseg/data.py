"""tf.data input pipeline: weighted sampling over prepared roots, augmentation, letterboxing.

Every random choice is a function of (seed, epoch, sample index): the per-epoch sample lists are
drawn with NumPy from `seed + epoch`, and augmentation uses TF's stateless random ops. So a run
resumed at epoch k sees exactly the batches an uninterrupted run would have seen.

Aspect ratio, on purpose: validation letterboxes each image into size×size (scaled so the longer
side fits, centred, black padding: the same framing as inference). Training takes a random
scale of that letterbox (zoom 0.6–1.6×: zoom-out teaches small people, zoom-in large ones),
pads if needed, and crops size×size at a random place, so the aspect ratio is never distorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from personseg.layout import Pair, check_sizes, find_pairs, parse_root_spec


@dataclass(frozen=True)
class Root:
    """A prepared dataset root, its split and its relative sampling weight."""

    pairs: tuple[Pair, ...]
    weight: float
    name: str


def load_roots(specs: list[str], default_split: str | None) -> list[Root]:
    """Resolve `PATH[:SPLIT][@WEIGHT]` specs; a root without split folders is read flat."""
    roots = []
    for spec in specs:
        path, split, weight = parse_root_spec(spec)
        if split is None and default_split and (path / "images" / default_split).is_dir():
            split = default_split
        pairs = find_pairs(path, split)
        check_sizes(pairs)
        roots.append(Root(tuple(pairs), weight, f"{path}:{split}" if split else str(path)))
    return roots


def epoch_samples(roots: list[Root], n: int, seed: int, epoch: int) -> list[Pair]:
    """`n` pairs for one epoch: root chosen by weight, then without replacement inside it."""
    rng = np.random.default_rng([seed, epoch])
    weights = np.array([r.weight for r in roots], dtype=np.float64)
    choice = rng.choice(len(roots), size=n, p=weights / weights.sum())
    orders = [rng.permutation(len(r.pairs)) for r in roots]
    cursors = [0] * len(roots)
    samples = []
    for i in choice:
        if cursors[i] == len(orders[i]):  # root exhausted this epoch: reshuffle and go on
            orders[i], cursors[i] = rng.permutation(len(roots[i].pairs)), 0
        samples.append(roots[i].pairs[orders[i][cursors[i]]])
        cursors[i] += 1
    return samples


def decode_pair(image_path: tf.Tensor, mask_path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Read an RGB uint8 image and a {0,1} uint8 mask of the same size."""
    image = tf.io.decode_image(tf.io.read_file(image_path), channels=3, expand_animations=False)
    mask = tf.io.decode_png(tf.io.read_file(mask_path), channels=1)
    mask = tf.cast(mask > 127, tf.uint8)
    return image, mask


def _place(image, mask, scale, size: int, offset):
    """Resize by `scale`, pad to ≥ size, crop size×size at `offset` ∈ [0,1]²; keeps masks binary."""
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
    return tf.ensure_shape(image, (size, size, 3)), tf.ensure_shape(mask, (size, size, 1))


def letterbox(image: tf.Tensor, mask: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Deterministic, centred letterbox (see personseg.letterbox for the inference twin)."""
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


def train_dataset(
    roots: list[Root],
    *,
    size: int,
    batch_size: int,
    steps_per_epoch: int,
    epochs: int,
    initial_epoch: int = 0,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches for epochs `initial_epoch`..`epochs-1` (float32 0–255 images, float32 {0,1} masks)."""
    n = steps_per_epoch * batch_size
    images, masks, sample_seeds = [], [], []
    for epoch in range(initial_epoch, epochs):
        for i, pair in enumerate(epoch_samples(roots, n, seed, epoch)):
            images.append(str(pair.image))
            masks.append(str(pair.mask))
            sample_seeds.append([seed, epoch * n + i])
    ds = tf.data.Dataset.from_tensor_slices(
        (images, masks, tf.constant(sample_seeds, dtype=tf.int64))
    )

    def load(image_path, mask_path, sample_seed):
        image, mask = decode_pair(image_path, mask_path)
        image, mask = augment(tf.cast(image, tf.float32), mask, size, sample_seed)
        return image, tf.cast(mask, tf.float32)

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def eval_dataset(roots: list[Root], *, size: int, batch_size: int, cache: bool = True) -> tf.data.Dataset:
    """Every pair of every root once, letterboxed to size×size, in a fixed order."""
    pairs = [p for r in roots for p in r.pairs]
    ds = tf.data.Dataset.from_tensor_slices(
        ([str(p.image) for p in pairs], [str(p.mask) for p in pairs])
    )

    def load(image_path, mask_path):
        image, mask = decode_pair(image_path, mask_path)
        image, mask = letterbox(tf.cast(image, tf.float32), mask, size)
        return image, tf.cast(mask, tf.float32)

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)
    if cache:
        ds = ds.cache()
    return ds.prefetch(tf.data.AUTOTUNE)
