"""personseg.data.coco: person masks equal pycocotools' annToMask union; bad input is named and explained."""

from __future__ import annotations

import json

import numpy as np
import pytest

from personseg.data.coco import (
    DegeneratePolygon,
    MalformedRLE,
    decode_counts,
    load_coco,
    person_category_id,
    person_mask,
)
from personseg.errors import UserError
from tests.synthetic_coco import coco_dict, compressed_rle, expected_mask, make_coco, uncompressed_rle


@pytest.fixture
def coco_files(tmp_path):
    return make_coco(tmp_path / "coco")


@pytest.mark.parametrize("image_id", [1, 2, 3, 4, 5])
def test_person_mask_is_the_union_of_pycocotools_masks(coco_files, image_id):
    ann, _ = coco_files
    coco = load_coco(ann)
    mask = person_mask(coco, image_id)
    expected = expected_mask(ann, image_id)
    assert mask.dtype == np.uint8 and mask.shape == expected.shape
    assert set(np.unique(mask).tolist()) <= {0, 255}
    np.testing.assert_array_equal(mask, expected)


def test_fixture_covers_overlap_crowd_rle_and_negatives(coco_files):
    ann, _ = coco_files
    coco = load_coco(ann)
    a = person_mask(coco, 1)
    assert a[45, 10] == 255  # only the crowd region covers this pixel
    assert a[25, 35] == 255  # both polygons overlap here
    assert a[5, 60] == 0  # the dog is not a person
    assert person_mask(coco, 2)[25, 20] == 255  # compressed RLE decoded
    assert not person_mask(coco, 3).any() and not person_mask(coco, 5).any()


def test_crowd_ignore_and_min_area(coco_files):
    ann, _ = coco_files
    coco = load_coco(ann)
    np.testing.assert_array_equal(person_mask(coco, 1, crowd="ignore"), expected_mask(ann, 1, crowd=False))
    assert person_mask(coco, 1, crowd="ignore")[45, 10] == 0
    with_tiny, without = person_mask(coco, 2), person_mask(coco, 2, min_area=10)
    assert with_tiny[2, 2] == 255 and without[2, 2] == 0
    np.testing.assert_array_equal(without, expected_mask(ann, 2, min_area=10))


def test_compressed_counts_decode_like_pycocotools():
    rng = np.random.default_rng(3)
    mask = (rng.random((37, 53)) > 0.6).astype(np.uint8)
    runs = decode_counts(compressed_rle(mask)["counts"])
    assert runs == uncompressed_rle(mask)["counts"]
    assert sum(runs) == mask.size


def _write(tmp_path, data, name="bad.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match=r"absent\.json: annotation file not found"):
        load_coco(tmp_path / "absent.json")


def test_malformed_json_is_named(tmp_path):
    path = _write(tmp_path, '{"images": [')
    with pytest.raises(UserError, match=r"bad\.json: not valid JSON"):
        load_coco(path)


def test_missing_keys_are_named(tmp_path):
    path = _write(tmp_path, {"images": [], "categories": []})
    with pytest.raises(UserError, match=r"bad\.json: missing or not a list: annotations"):
        load_coco(path)
    data = coco_dict()
    del data["images"][2]["height"]
    with pytest.raises(UserError, match=r"bad\.json: image #2 has no height"):
        load_coco(_write(tmp_path, data))


@pytest.mark.parametrize("key,value,problem", [
    ("width", "640", r"width '640' is not a positive whole number"),
    ("height", 0, r"height 0 is not a positive whole number"),
    ("width", 12.5, r"width 12.5 is not a positive whole number"),
    ("file_name", None, r"file_name None is not a file name"),
    ("file_name", "", r"file_name '' is not a file name"),
])
def test_unusable_image_records_are_named(tmp_path, key, value, problem):
    data = coco_dict()
    data["images"][1][key] = value
    with pytest.raises(UserError, match=rf"bad\.json: image #1 \(id 2\): {problem}"):
        load_coco(_write(tmp_path, data))


def test_min_area_keeps_instances_without_a_numeric_area(tmp_path):
    data = coco_dict()
    del data["annotations"][5]["area"]  # b.jpg's tiny square person
    data["annotations"][4]["area"] = "large"  # b.jpg's blob
    coco = load_coco(_write(tmp_path, data))
    np.testing.assert_array_equal(person_mask(coco, 2, min_area=1000), person_mask(coco, 2))
    assert person_mask(coco, 2, min_area=1000)[2, 2] == 255


def test_no_person_category_is_named(tmp_path):
    data = coco_dict()
    data["categories"] = [{"id": 18, "name": "dog"}]
    coco = load_coco(_write(tmp_path, data, "dogs.json"))
    with pytest.raises(UserError, match=r"dogs\.json: no 'person' category \(categories: dog\)"):
        person_category_id(coco)


def _with_segmentation(tmp_path, segmentation):
    data = coco_dict()
    data["annotations"][0]["segmentation"] = segmentation
    return load_coco(_write(tmp_path, data))


@pytest.mark.parametrize("segmentation", [
    [[10, 5, 40, 5]],  # two points: pycocotools would silently read this as a bounding box
    [[10, 5, 40, 5, 40]],  # odd number of coordinates
    [],
    [[10, 5, 40, 5, 40, 35], [1, 1]],  # one good part, one degenerate
])
def test_degenerate_polygons_raise(tmp_path, segmentation):
    coco = _with_segmentation(tmp_path, segmentation)
    with pytest.raises(DegeneratePolygon, match="annotation 1: (degenerate|empty) polygon"):
        person_mask(coco, 1)


def test_a_triangle_is_fine(tmp_path):
    coco = _with_segmentation(tmp_path, [[10, 5, 40, 5, 40, 35]])
    assert person_mask(coco, 1).any()


def _rle_cases():
    good = np.zeros((60, 80), np.uint8)
    good[10:20, 10:20] = 1
    short = uncompressed_rle(good)
    short["counts"] = short["counts"][:-1]
    compressed = compressed_rle(good)
    return [
        (short, "cover"),
        ({"size": [60, 80], "counts": [10, -5, 4795]}, "non-negative"),
        ({"size": [50, 80], "counts": uncompressed_rle(good)["counts"]}, "size"),
        ({"size": [60, 80], "counts": compressed["counts"] + "3"}, "cover"),
        ({"size": [60, 80], "counts": compressed["counts"][:-1] + "~"}, "invalid character|ends mid-number"),
        ({"size": [60, 80], "counts": 12}, "list or a string"),
        ({"counts": [4800]}, "neither polygons nor RLE"),
    ]


@pytest.mark.parametrize("segmentation,problem", _rle_cases())
def test_malformed_rle_raises(tmp_path, segmentation, problem):
    coco = _with_segmentation(tmp_path, segmentation)
    with pytest.raises(MalformedRLE, match=f"annotation 1: .*({problem})"):
        person_mask(coco, 1)


def test_valid_rle_variants_match_pycocotools(tmp_path):
    good = np.zeros((60, 80), np.uint8)
    good[10:20, 10:25] = 1
    for segmentation in (uncompressed_rle(good), compressed_rle(good)):
        data = coco_dict()
        data["annotations"][0]["segmentation"] = segmentation
        path = _write(tmp_path, data)
        mask = person_mask(load_coco(path), 1)
        np.testing.assert_array_equal(mask, expected_mask(path, 1))
        assert (mask[10:20, 10:25] == 255).all()
