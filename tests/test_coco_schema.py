"""The COCO schema is checked before pycocotools: duplicate ids name both records and nothing is
prepared or scored (never one image written with another's people); list ids, wrong types and
hidden or escaping file names are one error line, not a traceback or a hidden output."""

from __future__ import annotations

import json

import pytest

from tests.cli_run import assert_error
from tests.synthetic_coco import coco_dict, make_coco


def _variant(change) -> dict:
    data = coco_dict()
    change(data)
    return data


def _duplicate_image_id(data):
    data["images"][1]["id"] = data["images"][0]["id"]  # b.jpg takes a.jpg's id


CASES = {
    "duplicate image id": (_duplicate_image_id, "image #0 and #1 share the id 1 ('a.jpg' and 'b.jpg')"),
    "duplicate annotation id": (lambda d: d["annotations"][1].update(id=d["annotations"][0]["id"]),
                                "annotation #0 and #1 share the id"),
    "list image id": (lambda d: d["images"][0].update(id=[1]), "image #0: id [1] is not a whole number"),
    "list annotation id": (lambda d: d["annotations"][0].update(id=[5]), "id [5] is not a whole number"),
    "list image_id": (lambda d: d["annotations"][0].update(image_id=[1]),
                      "image_id [1] is not a whole number"),
    "list category id": (lambda d: d["categories"][0].update(id=[1]), "category #0: id [1] is not"),
    "list category_id": (lambda d: d["annotations"][0].update(category_id=[1]),
                         "category_id [1] is not a whole number"),
    "iscrowd text": (lambda d: d["annotations"][0].update(iscrowd="yes"), "iscrowd 'yes' is not 0 or 1"),
    "hidden file name": (lambda d: d["images"][0].update(file_name=".hid.jpg"),
                         "file_name '.hid.jpg' is not a plain visible file name"),
    "escaping file name": (lambda d: d["images"][0].update(file_name="../a.jpg"),
                           "file_name '../a.jpg' is not a plain visible file name"),
    "absolute file name": (lambda d: d["images"][0].update(file_name="/etc/a.jpg"),
                           "is not a plain visible file name"),
}


@pytest.mark.parametrize("case", CASES)
def test_prepare_and_evaluate_refuse_a_schema_violation_before_any_work(tmp_path, capsys, case):
    change, message = CASES[case]
    ann, images = make_coco(tmp_path / "src", _variant(change))
    assert_error(capsys, "prepare", "--annotations", ann, "--images", images, "--out", tmp_path / "out",
                 message=message)
    assert not (tmp_path / "out").exists()
    assert_error(capsys, "evaluate", "--weights", "pretrained:unet", "--annotations", ann,
                 "--images", images, message=message)


def test_download_refuses_a_local_annotation_file_with_list_ids(tmp_path, capsys):
    ann = tmp_path / "instances_val2017.json"
    ann.write_text(json.dumps(_variant(lambda d: d["categories"][0].update(id=[1]))))
    assert_error(capsys, "download", "coco", "--split", "val2017", "--annotations", ann,
                 "--out", tmp_path / "out", "--person-only", message="category #0: id [1] is not")


def test_plain_file_names_with_a_folder_are_still_accepted(tmp_path):
    from personseg.data.coco import load_coco

    data = _variant(lambda d: d["images"][0].update(file_name="train/a.jpg"))
    ann, _ = make_coco(tmp_path, data)
    assert load_coco(ann).imgs[1]["file_name"] == "train/a.jpg"
