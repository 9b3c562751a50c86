"""tf.data input pipelines: weighted sampling over prepared roots, training and validation batches.

Every random choice is a function of (seed, epoch, sample index): the per-epoch sample lists are
drawn with NumPy from `seed + epoch`, and augmentation (`personseg.data.augment`) uses TF's
stateless random ops. So a run resumed at epoch k sees exactly the batches an uninterrupted run
would have seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from personseg.data.augment import augment, decode_pair, decode_teacher, letterbox, paste_people
from personseg.data.dataset_layout import Pair, check_sizes, find_pairs, parse_root_spec, resolve_split
from personseg.data.integrity import check_decodable


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
        split = resolve_split(path, split, default_split)
        pairs = find_pairs(path, split)
        check_sizes(pairs)
        check_decodable(pairs)  # a truncated photo is named now, not mid-epoch
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


def train_dataset(
    roots: list[Root],
    *,
    size: int,
    batch_size: int,
    steps_per_epoch: int,
    epochs: int,
    initial_epoch: int = 0,
    seed: int = 0,
    teacher_maps: dict[Path, Path] | None = None,
    teacher_weight: float = 0.0,
    zoom: tuple[float, float] = (0.6, 1.6),
    copy_paste: float = 0.0,
    shard: tuple[int, int] = (0, 1),
    shard_batch_size: int | None = None,
) -> tf.data.Dataset:
    """Batches for epochs `initial_epoch`..`epochs-1` (float32 0–255 images, float32 targets).

    Targets are the {0,1} masks; with `teacher_maps` (image path → cached teacher map) they are
    `(1 − teacher_weight) × mask + teacher_weight × teacher probability`. Binary cross-entropy is
    linear in its target, so this trains on both terms (ground truth and the teacher's soft map).
    `zoom` is the random scale range of the letterboxed photo; with `copy_paste` > 0, that share of
    samples get the people of another sample of the same epoch pasted in (`augment.paste_people`).

    `shard=(i, n)` keeps every n-th sample from the i-th, batched `shard_batch_size` at a time: one
    of n input pipelines that together read each global batch of `batch_size` once (multi-worker
    training; `batch_size` must be a multiple of n).
    """
    n = steps_per_epoch * batch_size
    samples, sample_seeds = [], []
    for epoch in range(initial_epoch, epochs):
        samples += epoch_samples(roots, n, seed, epoch)
        sample_seeds += [[seed, epoch * n + i] for i in range(n)]
    donors = [samples[(i // n) * n + (i % n + n // 2 + 1) % n] for i in range(len(samples))]
    index, count = shard
    if count > 1:  # after drawing donors, so every shard pairs samples as the whole stream does
        samples, donors, sample_seeds = (part[index::count] for part in (samples, donors, sample_seeds))
    weight, zoom = float(teacher_weight), tuple(zoom)

    def columns(pairs: list[Pair]) -> tuple:
        """Image paths, mask paths and (with a teacher) teacher-map paths."""
        found = ([str(p.image) for p in pairs], [str(p.mask) for p in pairs])
        if teacher_maps is not None:
            found += ([str(teacher_maps[p.image]) for p in pairs],)
        return found

    def read(image_path, mask_path, sample_seed, teacher_path=None):
        image, mask = decode_pair(image_path, mask_path)
        if teacher_path is not None:
            mask = tf.concat([mask, decode_teacher(teacher_path)], axis=-1)
        return augment(tf.cast(image, tf.float32), mask, size, sample_seed, zoom=zoom)

    def load(sample, donor, sample_seed):
        image, mask = read(*sample[:2], sample_seed, *sample[2:])
        if copy_paste > 0:
            donor_seed = tf.random.experimental.stateless_fold_in(sample_seed, 1)
            donor_image, donor_mask = read(*donor[:2], donor_seed, *donor[2:])
            paste_seed = tf.random.experimental.stateless_fold_in(sample_seed, 2)
            image, mask = paste_people(image, mask, donor_image, donor_mask, paste_seed, copy_paste)
        target = tf.cast(mask[..., :1], tf.float32)
        if teacher_maps is not None:
            target = (1.0 - weight) * target + weight * tf.cast(mask[..., 1:], tf.float32) / 255.0
        return image, target

    ds = tf.data.Dataset.from_tensor_slices(
        (columns(samples), columns(donors), tf.constant(sample_seeds, dtype=tf.int64))
    )
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(shard_batch_size or batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


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
