"""`personseg evaluate`: numbers against a hand-computed case, sweep, CSV/JSON, data sources."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from personseg.cli import main
from personseg.errors import UserError
from personseg.evaluation.evaluate import evaluate, score_image
from personseg.evaluation.samples import Sample, coco_samples, prepared_samples
from personseg.files import read_mask, write_image
from personseg.inference.segmenter import Segmenter
from tests.cli_run import assert_error
from tests.conftest import REPO
from tests.fakes import ChannelBackend, probability_image, save_tiny_model
from tests.synthetic import make_root


def hand_case(tmp_path):
    """Three 8×8 images whose predicted probabilities and truths are set pixel by pixel.

    A: truth = left half (32 px); p=0.9 on 16 of them, p=0.6 on 8 pixels outside.
    B: truth = 4 px, all predicted with p=0.6.     C: no person; 2 px predicted with p=0.6.
    """
    probs, truths = {}, {}
    probs["A"] = np.zeros((8, 8))
    truths["A"] = np.zeros((8, 8), bool)
    truths["A"][:, :4] = True
    probs["A"][:4, :4] = 0.9
    probs["A"][:4, 4:6] = 0.6
    probs["B"] = np.zeros((8, 8))
    truths["B"] = np.zeros((8, 8), bool)
    truths["B"][:2, :2] = True
    probs["B"][:2, :2] = 0.6
    probs["C"] = np.zeros((8, 8))
    truths["C"] = np.zeros((8, 8), bool)
    probs["C"][7, :2] = 0.6
    samples = []
    for name in "ABC":
        write_image(tmp_path / f"{name}.png", probability_image(probs[name]))
        samples.append(Sample(name, tmp_path / f"{name}.png", lambda t=truths[name]: t))
    return samples


def test_pooled_metrics_match_the_hand_computed_counts(tmp_path):
    backend = ChannelBackend(8)
    result = evaluate(Segmenter(backend), hand_case(tmp_path), thresholds=[0.5, 0.7], progress=False)
    assert sum(backend.batch_sizes) == 3  # the model ran once per image, not once per threshold
    m = result.metrics(0.5)
    # @0.5: TP = 16 + 4, FP = 8 + 2, FN = 16, TN = 192 - 46
    assert m["iou"] == pytest.approx(20 / 46, abs=1e-12)
    assert m["dice"] == pytest.approx(40 / 66, abs=1e-12)
    assert m["precision"] == pytest.approx(20 / 30, abs=1e-12)
    assert m["recall"] == pytest.approx(20 / 36, abs=1e-12)
    assert m["accuracy"] == pytest.approx(166 / 192, abs=1e-12)
    assert m["empty_fp_rate"] == pytest.approx(2 / 64, abs=1e-12)
    # mean per-image IoU over images with people: (16/40 + 4/4) / 2 = 0.7, far from pooled 0.435
    assert m["mean_image_iou"] == pytest.approx(0.7, abs=1e-12)
    # @0.7 only the p=0.9 pixels: TP = 16, FP = 0, FN = 20 -> IoU 16/36, higher than @0.5
    m7 = result.metrics(0.7)
    assert m7["iou"] == pytest.approx(16 / 36, abs=1e-12)
    assert m7["mean_image_iou"] == pytest.approx((16 / 32 + 0) / 2, abs=1e-12)
    assert m7["empty_fp_rate"] == 0.0 and m7["precision"] == 1.0
    summary = result.summary()
    assert summary["best_threshold"] == 0.7 and summary["threshold"] == 0.5
    assert (summary["images"], summary["images_with_people"], summary["images_without_people"]) == (3, 2, 1)
    assert [s["threshold"] for s in summary["sweep"]] == [0.5, 0.7]


def test_headline_threshold_is_always_in_the_sweep(tmp_path):
    result = evaluate(Segmenter(ChannelBackend(8)), hand_case(tmp_path), thresholds=[0.3, 0.7],
                      threshold=0.5, progress=False)
    assert result.thresholds == [0.3, 0.5, 0.7]
    assert result.metrics()["iou"] == pytest.approx(20 / 46, abs=1e-12)


def test_no_empty_images_means_no_false_positive_rate(tmp_path):
    samples = hand_case(tmp_path)[:2]
    m = evaluate(Segmenter(ChannelBackend(8)), samples, progress=False).metrics()
    assert m["empty_fp_rate"] is None


def test_per_image_csv(tmp_path):
    seg = Segmenter(ChannelBackend(8))
    result = evaluate(seg, hand_case(tmp_path), thresholds=[0.5, 0.7], progress=False)
    result.write_csv(tmp_path / "per_image.csv")
    with open(tmp_path / "per_image.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["image"] for r in rows] == ["A", "B", "C"]
    a = rows[0]
    assert (int(a["tp"]), int(a["fp"]), int(a["fn"]), int(a["tn"])) == (16, 8, 16, 24)
    assert float(a["iou"]) == pytest.approx(0.4, abs=1e-6)
    assert float(a["iou@0.7"]) == pytest.approx(0.5, abs=1e-6)
    assert rows[2]["has_person"] == "0" and float(rows[2]["positive_rate"]) == pytest.approx(2 / 64, abs=1e-6)


def test_prediction_and_truth_of_different_sizes_is_an_error():
    with pytest.raises(UserError, match="differ in size"):
        score_image("x.png", np.zeros((4, 5), np.float32), np.zeros((5, 4), bool), [0.5])


def test_missing_image_file_is_reported_before_running(tmp_path):
    samples = [Sample("gone", tmp_path / "gone.png", lambda: np.zeros((8, 8), bool))]
    with pytest.raises(UserError, match="gone.png"):
        evaluate(Segmenter(ChannelBackend(8)), samples, progress=False)


def test_prepared_samples_read_masks_as_person_above_127(tmp_path):
    root = make_root(tmp_path / "data", n=3, split="val", size=(20, 30))
    samples = prepared_samples(root, "val")
    assert [s.name for s in samples] == ["img000.png", "img001.png", "img002.png"]
    truth = samples[0].truth()
    assert truth.dtype == bool and truth.shape == (20, 30) and truth.any()
    assert not samples[2].truth().any()  # the synthetic set's last image has nobody


def rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils

    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(encoded["size"]), "counts": encoded["counts"].decode("ascii")}


def test_coco_truth_is_the_union_of_person_instances_with_crowd_regions(tmp_path):
    """A tiny COCO file: one person, one person crowd region and a dog on b.png; only a dog on a.png."""
    person, crowd, dog = (np.zeros((10, 12), bool) for _ in range(3))
    person[1:5, 2:6] = True
    crowd[6:9, 7:11] = True
    dog[0:3, 8:12] = True
    annotations = {
        "images": [{"id": 7, "file_name": "b.png", "width": 12, "height": 10},
                   {"id": 3, "file_name": "a.png", "width": 12, "height": 10}],
        "categories": [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0, "segmentation": rle(person)},
            {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 1, "segmentation": rle(crowd)},
            {"id": 3, "image_id": 7, "category_id": 18, "iscrowd": 0, "segmentation": rle(dog)},
            {"id": 4, "image_id": 3, "category_id": 18, "iscrowd": 0, "segmentation": rle(dog)},
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(annotations))
    prob = np.zeros((10, 12))
    prob[1:5, 2:6] = 0.9  # finds the person, misses the crowd region
    write_image(tmp_path / "b.png", probability_image(prob))
    write_image(tmp_path / "a.png", probability_image(np.zeros((10, 12))))
    samples = coco_samples(tmp_path / "ann.json", tmp_path)
    assert [s.name for s in samples] == ["a.png", "b.png"]
    assert not samples[0].truth().any()
    np.testing.assert_array_equal(samples[1].truth(), person | crowd)
    m = evaluate(Segmenter(ChannelBackend(12)), samples, progress=False).metrics()
    assert m["iou"] == pytest.approx(16 / (16 + 12), abs=1e-12)
    assert m["empty_fp_rate"] == 0.0


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("model") / "tiny.h5")


def test_cli_json_table_csv_and_limit_agree_with_the_api(tmp_path, tiny_model, capsys):
    root = make_root(tmp_path / "data", n=5, split="val", size=(48, 80))
    csv_path = tmp_path / "per_image.csv"
    rc = main(["evaluate", "--weights", str(tiny_model), "--data", str(root), "--json",
               "--csv", str(csv_path), "--thresholds", "0.2,0.5,0.8"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    expected = evaluate(Segmenter.from_weights(tiny_model), prepared_samples(root, "val"),
                        thresholds=[0.2, 0.5, 0.8], progress=False).summary()
    assert printed.keys() == expected.keys()
    for key in ("iou", "mean_image_iou", "dice", "accuracy", "precision", "recall", "empty_fp_rate"):
        assert printed[key] == pytest.approx(expected[key], abs=1e-9), key
    assert printed["images"] == 5 and printed["images_without_people"] == 1
    assert [s["threshold"] for s in printed["sweep"]] == [0.2, 0.5, 0.8]
    with open(csv_path, newline="") as f:
        assert len(list(csv.DictReader(f))) == 5
    assert main(["evaluate", "--weights", str(tiny_model), "--data", str(root), "--limit", "2"]) == 0
    table = capsys.readouterr().out
    assert "images: 2 (2 with people, 0 without)" in table and "IoU (pooled)" in table
    assert "<- best IoU" in table


@pytest.mark.parametrize("args,message", [
    (["--data", "DATA", "--annotations", "a.json", "--images", "."], "not both"),
    (["--annotations", "a.json"], "go together"),
    ([], "--data ROOT"),
    (["--data", "DATA", "--thresholds", "0.5,2"], "between 0 and 1"),
    (["--data", "DATA", "--limit", "0"], "--limit"),
    (["--data", "DATA", "--split", "test"], "available splits: val"),
])
def test_cli_option_errors(tmp_path, capsys, args, message):
    root = make_root(tmp_path / "data", n=2, split="val")
    args = [str(root) if a == "DATA" else a for a in args]
    assert_error(capsys, "evaluate", "--weights", tmp_path / "none.h5", *args, message=message)


# The real model on real data: set PERSONSEG_TEST_WEIGHTS to try another model file.
WEIGHTS = Path(os.environ.get("PERSONSEG_TEST_WEIGHTS", REPO / "weights.h5"))


@pytest.mark.shared_data
@pytest.mark.slow
def test_predict_masks_give_the_iou_that_evaluate_reports_on_coco_minival(tmp_path, coco_mini, capsys):
    """`predict` → _mask.png files, scored with numpy against pycocotools' own masks, must give
    the pooled IoU that `evaluate` prints for the same ten images."""
    from pycocotools.coco import COCO

    if not WEIGHTS.exists():
        pytest.skip(f"{WEIGHTS} is absent (trained weights not in this checkout)")
    weights = WEIGHTS
    annotations = coco_mini / "annotations" / "instances_minival.json"
    images = coco_mini / "images"
    coco = COCO(str(annotations))
    infos = sorted(coco.imgs.values(), key=lambda info: info["file_name"])[:10]
    files = [str(images / info["file_name"]) for info in infos]
    out = tmp_path / "out"
    assert main(["predict", *files, "--weights", str(weights), "--out", str(out), "--save", "mask"]) == 0

    person = coco.getCatIds(catNms=["person"])
    tp = fp = fn = 0
    for info in infos:
        predicted = read_mask(out / f"{Path(info['file_name']).stem}_mask.png") > 127
        truth = np.zeros((info["height"], info["width"]), bool)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=info["id"], catIds=person, iscrowd=None)):
            truth |= coco.annToMask(ann) > 0  # every instance, crowd regions included
        assert predicted.shape == truth.shape
        tp += int(np.sum(predicted & truth))
        fp += int(np.sum(predicted & ~truth))
        fn += int(np.sum(~predicted & truth))
    independent_iou = tp / (tp + fp + fn)

    capsys.readouterr()
    rc = main(["evaluate", "--weights", str(weights), "--annotations", str(annotations),
               "--images", str(images), "--limit", "10", "--json"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)  # stdout must be pure JSON
    assert printed["images"] == 10
    assert printed["iou"] == pytest.approx(independent_iou, abs=1e-9)
