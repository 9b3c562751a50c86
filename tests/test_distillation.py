"""Distillation: teacher maps are computed once and cached, travel through exactly the image's
augmentation, and blend with the ground truth by the teacher weight; `train --teacher` runs."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.data.dataset_layout import find_pairs
from personseg.data.pipeline import load_roots, train_dataset
from personseg.errors import OptionError
from personseg.files import read_mask, write_image
from personseg.training import TrainConfig, train
from personseg.training.teacher import cache_file, teacher_maps, teacher_name
from tests.fakes import save_tiny_model
from tests.synthetic import make_root


def batches(roots, maps=None, weight=0.0, epochs=2):
    ds = train_dataset(roots, size=32, batch_size=4, steps_per_epoch=2, epochs=epochs, seed=3,
                       teacher_maps=maps, teacher_weight=weight)
    return [(x.numpy(), y.numpy()) for x, y in ds]


def fake_maps(tmp_path, roots, value):
    """Teacher maps written straight into a cache: `value(mask)` of each image's own mask."""
    maps = {}
    for pair in (p for r in roots for p in r.pairs):
        maps[pair.image] = cache_file(tmp_path / "cache", pair.image)
        write_image(maps[pair.image], value(read_mask(pair.mask)))
    return maps


def test_teacher_map_gets_the_same_geometry_as_image_and_mask(tmp_path):
    roots = load_roots([f"{make_root(tmp_path / 'data', n=6)}:train"], "train")
    plain = batches(roots)
    # a teacher that agrees with the ground truth: blended targets must equal the plain masks,
    # pixel for pixel, through random zoom, crop, padding and flips
    same = batches(roots, fake_maps(tmp_path, roots, lambda m: m), weight=0.5)
    for (x0, y0), (x1, y1) in zip(plain, same, strict=True):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)
    assert any(y.max() == 1.0 for _, y in plain) and all(set(np.unique(y)) <= {0.0, 1.0} for _, y in plain)


def test_targets_blend_ground_truth_and_teacher_by_weight(tmp_path):
    roots = load_roots([f"{make_root(tmp_path / 'data', n=6)}:train"], "train")
    plain = batches(roots)
    # a teacher that sees no one anywhere: the target is (1 - w) × ground truth
    silent = batches(roots, fake_maps(tmp_path, roots, np.zeros_like), weight=0.25)
    for (_, y0), (_, y1) in zip(plain, silent, strict=True):
        np.testing.assert_allclose(y1, 0.75 * y0, atol=1e-6)


def test_teacher_maps_are_computed_once_and_cached(tmp_path, monkeypatch):
    root = make_root(tmp_path / "data", n=3, size=(40, 56))
    images = [p.image for p in find_pairs(root, "train")]
    teacher = save_tiny_model(tmp_path / "teacher.h5", 64)
    maps = teacher_maps(images, str(teacher), tmp_path / "cache", progress=False)
    assert set(maps) == set(images)
    for path in maps.values():
        stored = read_mask(path)
        assert stored.shape == (40, 56) and stored.dtype == np.uint8  # the photo's own size
    from personseg.inference.segmenter import Segmenter

    def no_model(*args, **kwargs):
        raise AssertionError("cached maps must not open the teacher again")

    monkeypatch.setattr(Segmenter, "open", no_model)
    assert teacher_maps(images, str(teacher), tmp_path / "cache", progress=False) == maps


def test_a_packaged_model_can_teach_by_its_pretrained_name(tmp_path):
    root = make_root(tmp_path / "data", n=2, size=(40, 56))
    images = [p.image for p in find_pairs(root, "train")]
    maps = teacher_maps(images, "pretrained:fast", tmp_path / "cache", progress=False)
    assert teacher_name("pretrained:fast").startswith("fast-")  # its cache folder
    from personseg.inference.segmenter import Segmenter

    # teachers run `square` whatever the file records (the cached maps were made so)
    direct = Segmenter.pretrained("fast", framing="square").predict_batch([str(p) for p in images])
    for image, prob in zip(images, direct, strict=True):
        np.testing.assert_allclose(read_mask(maps[image]), np.rint(prob * 255), atol=1)


def test_a_replaced_teacher_file_gets_new_maps(tmp_path):
    """The cache folder follows the teacher file's contents, not only its name: a new model behind
    the same path (e.g. a new weights.h5 behind pretrained:unet) must not reuse the old maps."""
    teacher = tmp_path / "teacher.h5"
    teacher.write_bytes(b"first model")
    first = teacher_name(str(teacher))
    assert teacher_name(str(teacher)) == first  # stable while the file is unchanged
    teacher.write_bytes(b"second model")
    assert teacher_name(str(teacher)) != first
    assert teacher_name(str(teacher)).startswith("teacher-")


def test_a_missing_teacher_is_an_option_error(tmp_path):
    root = make_root(tmp_path / "data", n=2)
    images = [p.image for p in find_pairs(root, "train")]
    with pytest.raises(OptionError, match="teacher.*model file not found"):
        teacher_maps(images, str(tmp_path / "missing.h5"), tmp_path / "cache", progress=False)
    with pytest.raises(OptionError, match="teacher_weight"):
        TrainConfig(data=[], val=[], out="x", teacher_weight=1.5)


def test_train_with_a_teacher_writes_a_model_and_caches_maps(tmp_path):
    data = make_root(tmp_path / "data", n=6, split="train")
    make_root(tmp_path / "data", n=2, split="val", seed=1)
    teacher = save_tiny_model(tmp_path / "teacher.h5", 64)
    config = TrainConfig(
        data=[f"{data}:train"], val=[f"{data}:val"], out=str(tmp_path / "run"), model="shallow",
        shallow_filters=[4, 8], size=32, batch_size=2, epochs=1, steps_per_epoch=2,
        teacher=str(teacher), teacher_weight=0.5,
    )
    run = train(config, verbose=0)
    assert (run / "model.h5").is_file()
    assert len(list((run / "teacher_maps").rglob("*.png"))) == 6


def test_paste_people_moves_donor_pixels_and_their_mask_together():
    import tensorflow as tf

    from personseg.data.augment import paste_people

    image, mask = tf.zeros((8, 8, 3)), tf.zeros((8, 8, 2), tf.uint8)
    donor_mask = np.zeros((8, 8, 2), np.uint8)
    donor_mask[2:5, 3:6] = [1, 200]  # a person, and the teacher's map of it
    donor_image = tf.fill((8, 8, 3), 99.0)
    pasted, pasted_mask = paste_people(image, mask, donor_image, tf.constant(donor_mask),
                                       tf.constant([0, 0], tf.int64), probability=1.0)
    person = donor_mask[..., 0] == 1
    assert np.all(pasted.numpy()[person] == 99) and np.all(pasted.numpy()[~person] == 0)
    np.testing.assert_array_equal(pasted_mask.numpy(), donor_mask)
    kept, kept_mask = paste_people(image, mask, donor_image, tf.constant(donor_mask),
                                   tf.constant([0, 0], tf.int64), probability=0.0)
    assert not kept.numpy().any() and not kept_mask.numpy().any()


def test_copy_paste_puts_people_on_more_samples_aligned_with_their_masks(tmp_path):
    roots = load_roots([f"{make_root(tmp_path / 'data', n=8, negatives=4)}:train"], "train")
    plain = train_dataset(roots, size=32, batch_size=8, steps_per_epoch=2, epochs=1, seed=3)
    pasted = train_dataset(roots, size=32, batch_size=8, steps_per_epoch=2, epochs=1, seed=3, copy_paste=1.0)
    with_people = [int((y.numpy().max(axis=(1, 2, 3)) > 0).sum()) for ds in (plain, pasted) for _, y in ds]
    assert sum(with_people[2:]) > sum(with_people[:2])
    for x, y in pasted:  # pasted pixels are the bright "person" pixels: the mask came with them
        for image, target in zip(x.numpy(), y.numpy()[..., 0], strict=True):
            if 0 < target.mean() < 1:
                assert image[target == 1].mean() - image[target == 0].mean() > 60


def test_training_metrics_read_soft_targets_as_person_from_one_half():
    from personseg.training.metrics import training_metrics

    truth = np.array([[0.0, 0.25, 0.5, 0.75, 1.0, 0.02]], np.float32)[..., None]
    pred = np.array([[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]], np.float32)[..., None]
    for metric in training_metrics():
        metric.update_state(truth, pred)
        assert float(metric.result()) == pytest.approx(1.0, abs=1e-6), metric.name  # matches truth ≥ 0.5
