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

from personseg.data.augment import (
    augment,
    decode_mask,
    decode_pair,
    decode_rgb,
    decode_teacher,
    letterbox,
    paste_people,
)
from personseg.data.box_set import BoxSample, find_box_samples, is_box_root
from personseg.data.dataset_layout import Pair, check_sizes, find_pairs, parse_root_spec, resolve_split
from personseg.data.integrity import check_decodable
from personseg.errors import UserError


@dataclass(frozen=True)
class Root:
    """A training or validation root, its split and its relative sampling weight: image/mask
    `Pair`s, or photos with person boxes (`BoxSample`s, `boxes=True`; see `personseg.data.box_set`)."""

    pairs: tuple[Pair | BoxSample, ...]
    weight: float
    name: str
    boxes: bool = False


def box_root_names(roots: list[Root]) -> str:
    """The names of the box-set roots among `roots`, for an error that concerns them."""
    return ", ".join(r.name for r in roots if r.boxes)


def load_roots(specs: list[str], default_split: str | None) -> list[Root]:
    """Resolve `PATH[:SPLIT][@WEIGHT]` specs; a root without split folders is read flat, and a
    root with a `boxes/` folder is a box set whose split defaults to `default_split`."""
    roots = []
    for spec in specs:
        path, split, weight = parse_root_spec(spec)
        if is_box_root(path):
            split = split or default_split or "all"
            samples = find_box_samples(path, split)
            check_decodable(samples)
            roots.append(Root(tuple(samples), weight, f"{path}:{split}", boxes=True))
            continue
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
    box_targets: dict[Path, tuple[Path, Path]] | None = None,
    zoom: tuple[float, float] = (0.6, 1.6),
    copy_paste: float = 0.0,
    shard: tuple[int, int] = (0, 1),
    shard_batch_size: int | None = None,
) -> tf.data.Dataset:
    """Batches for epochs `initial_epoch`..`epochs-1` (float32 0–255 images, float32 targets).

    Targets are the {0,1} masks; with `teacher_maps` (image path → cached teacher map) they are
    `(1 − teacher_weight) × mask + teacher_weight × teacher probability`. Binary cross-entropy is
    linear in its target, so this trains on both terms (ground truth and the teacher's soft map).
    Box-set samples (`Root.boxes`) have no ground truth: their target is the teacher's map checked
    by the boxes, `box_targets` (image path → (target map, ignore mask), from
    `personseg.training.teacher.checked_maps`). When any root is a box set, the targets carry a
    second channel, the per-pixel loss weight (0 on ignored pixels, else 1), which the losses and
    metrics of `personseg.training` read.
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
    zoom = tuple(zoom)
    with_teacher, with_ignore = teacher_maps is not None, any(r.boxes for r in roots)
    if with_ignore and not (with_teacher and box_targets is not None):
        raise UserError(f"{box_root_names(roots)}: photos with person boxes have no masks; they train on a "
                        "teacher's map checked by their boxes (give --teacher)")
    gt_weight = 1.0 - float(teacher_weight) if with_teacher else 1.0

    def columns(items: list) -> tuple:
        """Per sample: image, mask ('' for a box photo), teacher map, ignore mask ('' for a
        pair) and the weight of the ground truth in the target (0 for a box photo)."""
        image, mask, teacher, ignore, weight = [], [], [], [], []
        for item in items:
            boxed = isinstance(item, BoxSample)
            image.append(str(item.image))
            mask.append("" if boxed else str(item.mask))
            if boxed:
                target_map, ignore_mask = box_targets[item.image]
            else:
                target_map, ignore_mask = (teacher_maps or {}).get(item.image, ""), ""
            teacher.append(str(target_map))
            ignore.append(str(ignore_mask))
            weight.append(0.0 if boxed else gt_weight)
        return image, mask, teacher, ignore, np.array(weight, dtype=np.float32)

    def read(image_path, mask_path, teacher_path, ignore_path, _weight, sample_seed):
        image = decode_rgb(image_path)
        zeros = tf.zeros_like(image[..., :1])

        def mask_or_zeros(path):
            return tf.cond(tf.equal(path, ""), lambda: zeros, lambda: decode_mask(path))

        channels = [mask_or_zeros(mask_path)]
        if with_teacher:
            channels.append(decode_teacher(teacher_path))
        if with_ignore:
            channels.append(mask_or_zeros(ignore_path))
        return augment(tf.cast(image, tf.float32), tf.concat(channels, axis=-1), size, sample_seed, zoom=zoom)

    def load(sample, donor, sample_seed):
        image, mask = read(*sample, sample_seed)
        if copy_paste > 0:
            donor_seed = tf.random.experimental.stateless_fold_in(sample_seed, 1)
            donor_image, donor_mask = read(*donor, donor_seed)
            paste_seed = tf.random.experimental.stateless_fold_in(sample_seed, 2)
            image, mask = paste_people(image, mask, donor_image, donor_mask, paste_seed, copy_paste)
        target = tf.cast(mask[..., :1], tf.float32)
        if with_teacher:
            teacher = tf.cast(mask[..., 1:2], tf.float32) / 255.0
            target = sample[4] * target + (1.0 - sample[4]) * teacher
        if with_ignore:
            target = tf.concat([target, 1.0 - tf.cast(mask[..., 2:3], tf.float32)], axis=-1)
        return image, target

    ds = tf.data.Dataset.from_tensor_slices(
        (columns(samples), columns(donors), tf.constant(sample_seeds, dtype=tf.int64))
    )
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(shard_batch_size or batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def eval_dataset(roots: list[Root], *, size: int, batch_size: int, cache: bool = True) -> tf.data.Dataset:
    """Every pair of every root once, letterboxed to size×size, in a fixed order."""
    if any(r.boxes for r in roots):
        raise UserError(f"{box_root_names(roots)}: photos with person boxes have no masks to validate "
                        "on; score them with box metrics (personseg evaluate --data ROOT --split val)")
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
