"""Photos with person boxes: the fixed split, box files, the teacher check, per-pixel loss weights
(a weight-0 pixel changes no gradient) through the whole tf.data path, box metrics, and a
training run on a box set with two teachers."""

from __future__ import annotations

import numpy as np
import pytest

from personseg.data.box_set import check_teacher_map, find_box_samples, read_boxes
from personseg.data.dataset_layout import held_out
from personseg.data.pipeline import load_roots, train_dataset
from personseg.errors import OptionError, UserError
from personseg.evaluation.box_metrics import BoxScore
from personseg.files import read_mask, write_image
from personseg.training.teacher import cache_file, checked_maps, combined_maps
from tests.fakes import save_tiny_model
from tests.synthetic import make_root

H, W = 60, 80
# two people: one the teacher finds (left), one it misses (right)
BOXES = "0 0.25 0.5 0.2 0.5\n0 0.75 0.5 0.2 0.5\n"


def make_box_root(root, n: int = 10):
    """`n` photos with the two boxes above; image content is noise."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "boxes").mkdir()
    for i in range(n):
        write_image(root / "images" / f"p{i:03d}.jpg", rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
        (root / "boxes" / f"p{i:03d}.txt").write_text(BOXES)
    return root


def teacher_prob():
    """A teacher map: the left person found (and some spill outside every box), the right missed."""
    prob = np.zeros((H, W), np.uint8)
    prob[18:42, 14:26] = 230  # inside the left box (x 12-28, y 15-45)
    prob[0:5, 0:10] = 200  # a false alarm far outside every box
    return prob


def test_split_is_fixed_by_file_name_and_covers_every_photo(tmp_path):
    root = make_box_root(tmp_path / "wild", n=30)
    train, val = find_box_samples(root, "train"), find_box_samples(root, "val")
    assert {s.stem for s in val} == {s.stem for s in find_box_samples(root, "all") if held_out(s.stem, 5)}
    assert not {s.stem for s in train} & {s.stem for s in val}
    assert len(train) + len(val) == 30
    with pytest.raises(UserError, match="splits are train, val, all"):
        find_box_samples(root, "test")


def test_box_files_are_read_in_pixels_and_bad_lines_name_the_file(tmp_path):
    path = tmp_path / "b.txt"
    path.write_text(BOXES + "1 0.5 0.5 0.1 0.1")  # every line is a person; no final newline
    np.testing.assert_array_equal(read_boxes(path, W, H),
                                  [[12, 15, 28, 45], [52, 15, 68, 45], [36, 27, 44, 33]])
    path.write_text("0 0.1 0.2 0.3 0.2 0.2 0.8\n")  # a polygon: the box around its points
    np.testing.assert_array_equal(read_boxes(path, W, H), [[8, 12, 24, 48]])
    path.write_text("0 0.5 0.5 nope 0.1\n")
    with pytest.raises(UserError, match=r"b\.txt: line 1"):
        read_boxes(path, W, H)


def test_teacher_check_clears_outside_and_ignores_missed_boxes():
    boxes = np.array([[12, 15, 28, 45], [52, 15, 68, 45]])
    target, ignore = check_teacher_map(teacher_prob(), boxes)
    assert target[0:5, 0:10].max() == 0  # outside every box: background
    assert target[20, 20] == 230  # the found person keeps the teacher's probability
    assert ignore[15:45, 52:68].min() == 255 and ignore[15:45, 12:28].max() == 0  # the missed one
    assert ignore.sum() == 255 * 16 * 30


def test_a_zero_weight_pixel_changes_no_gradient():
    import tensorflow as tf

    from personseg.training.losses import LOSSES

    rng = np.random.default_rng(1)
    pred = tf.Variable(rng.uniform(0.05, 0.95, (2, 8, 8, 1)).astype("float32"))
    target = rng.uniform(0, 1, (2, 8, 8, 1)).astype("float32")
    weight = np.ones_like(target)
    weight[0, 2:5, 3:6] = 0.0
    other = target.copy()
    other[0, 2:5, 3:6] = 1.0 - other[0, 2:5, 3:6]  # a different target where the weight is 0
    for name, loss in LOSSES.items():
        with tf.GradientTape() as tape:
            value = loss(tf.constant(np.concatenate([target, weight], -1)), pred)
        grad = tape.gradient(value, pred).numpy()
        assert np.all(grad[0, 2:5, 3:6] == 0) and np.any(grad != 0), name
        same = loss(tf.constant(np.concatenate([other, weight], -1)), pred)
        assert float(same) == pytest.approx(float(value), rel=1e-6), name


def _maps(tmp_path, roots, value):
    maps = {}
    for item in (p for r in roots for p in r.pairs):
        maps[item.image] = cache_file(tmp_path / "cache", item.image)
        mask = read_mask(item.mask) if hasattr(item, "mask") else None
        write_image(maps[item.image], value(mask))
    return maps


def test_box_photos_train_on_the_checked_map_with_a_weight_channel(tmp_path):
    roots = load_roots([str(make_box_root(tmp_path / "wild")), f"{make_root(tmp_path / 'data', n=6)}:train"],
                       "train")
    assert roots[0].boxes and roots[0].name.endswith(":train") and not roots[1].boxes
    maps = _maps(tmp_path, roots, lambda m: teacher_prob() if m is None else m * 255)
    boxed = [s for s in roots[0].pairs]
    targets = checked_maps(boxed, maps, tmp_path / "checked")
    ds = train_dataset(roots, size=64, batch_size=4, steps_per_epoch=4, epochs=1, seed=0, zoom=(1.0, 1.0),
                       teacher_maps=maps, teacher_weight=0.5, box_targets=targets)
    ys = np.concatenate([y.numpy() for _, y in ds])
    assert ys.shape[-1] == 2  # target and weight
    target, weight = ys[..., 0], ys[..., 1]
    assert set(np.unique(weight)) == {0.0, 1.0}  # the missed boxes are left out
    assert target[weight == 0].max() == pytest.approx(0.0)  # the teacher saw no one there
    assert target.max() == pytest.approx(230 / 255)  # the found person, at the teacher's probability
    with pytest.raises(UserError, match="give --teacher"):
        train_dataset(roots, size=64, batch_size=4, steps_per_epoch=1, epochs=1)
    from personseg.data.pipeline import eval_dataset

    with pytest.raises(UserError, match="box metrics"):
        eval_dataset(roots[:1], size=64, batch_size=2)


def test_box_metrics_count_found_people_by_size_and_pixels_outside():
    boxes = np.array([[12, 15, 28, 45], [52, 15, 68, 45]])
    score = BoxScore()
    score.add(teacher_prob() / 255.0, boxes)
    summary = score.summary()
    assert summary["found"] == 0.5 and summary["boxes_by_size"]["5-20%"] == 2
    assert summary["outside_marked"] == pytest.approx(50 / (H * W - 2 * 20 * 34))
    score.add(np.ones((H, W)), boxes)  # marks everything: finds both, every outside pixel marked
    assert score.summary()["found"] == 0.75


def test_train_on_a_box_set_with_two_teachers(tmp_path):
    from personseg.training import TrainConfig, train

    wild = make_box_root(tmp_path / "wild", n=10)
    data = make_root(tmp_path / "data", n=4, split="train")
    make_root(tmp_path / "data", n=2, split="val", seed=1)
    teachers = [str(save_tiny_model(tmp_path / f"t{i}.h5", 64)) for i in range(2)]
    config = TrainConfig(
        data=[str(wild), f"{data}:train"], val=[f"{data}:val"], out=str(tmp_path / "run"),
        model="shallow", shallow_filters=[4, 8], size=32, batch_size=2, epochs=1, steps_per_epoch=2,
        teacher=teachers, model_epoch="last",
    )
    run = train(config, verbose=0)
    assert (run / "model.h5").is_file()
    assert __import__("json").loads((run / "summary.json").read_text())["model_epoch"] == 1
    with pytest.raises(OptionError, match="model_epoch"):
        TrainConfig(data=[], val=[], out="x", model_epoch="middle")
    n_train = len(find_box_samples(wild, "train")) + 4
    images = [p for p in (tmp_path / "wild" / "images").iterdir()]
    maps = combined_maps(images[:1], teachers, run / "teacher_maps", progress=False)
    each = [read_mask(p) for p in (run / "teacher_maps").glob("t*/*/*.png")]
    assert len(each) == 2 * n_train  # each teacher's maps, cached
    assert len(list((run / "teacher_maps").glob("max-*/*/*.png"))) >= n_train  # and their maximum
    assert len(list((run / "teacher_maps").glob("checked-*/*/*.target.png"))) == n_train - 4
    assert read_mask(next(iter(maps.values()))).dtype == np.uint8


def test_evaluate_scores_a_box_set_by_box_metrics(tmp_path, capsys):
    from tests.cli_run import run_cli

    wild = make_box_root(tmp_path / "wild", n=30)
    model = save_tiny_model(tmp_path / "m.h5", 64)
    code, out, _ = run_cli(capsys, "evaluate", "--weights", model, "--data", wild, "--json")
    summary = __import__("json").loads(out)
    assert code == 0 and summary["images"] == len(find_box_samples(wild, "val"))
    assert summary["boxes"] == 2 * summary["images"] and 0 <= summary["found"] <= 1


def test_evaluate_refuses_a_per_image_csv_for_a_box_set(tmp_path, capsys):
    from tests.cli_run import assert_error

    wild = make_box_root(tmp_path / "wild", n=5)
    model = save_tiny_model(tmp_path / "m.h5", 64)
    assert_error(capsys, "evaluate", "--weights", model, "--data", wild, "--csv", tmp_path / "x.csv",
                 message="box metrics only")
    assert not (tmp_path / "x.csv").exists()
