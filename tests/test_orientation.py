"""One orientation rule: wherever an image is compared with annotations or masks (prepare,
evaluate, grid, train, teacher maps) its pixels are read as stored, ignoring an EXIF rotation,
because that is the frame COCO annotations and masks describe; `predict` on photos shows what a
viewer shows, so it honours EXIF."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from personseg.evaluation.evaluate import evaluate
from personseg.evaluation.grid import grid_from_samples
from personseg.evaluation.samples import coco_samples, prepared_samples
from personseg.files import read_mask, write_image
from personseg.inference.segmenter import Segmenter
from tests.fakes import ChannelBackend

EXIF_ORIENTATION = 0x0112


def rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils

    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(encoded["size"]), "counts": encoded["counts"].decode("ascii")}


def exif_photo(path, person: np.ndarray, orientation: int = 6) -> None:
    """A JPEG whose stored red channel is the person (so ChannelBackend finds it exactly), tagged
    with an EXIF rotation that viewers (and OpenCV's default read) apply."""
    stored = np.zeros((*person.shape, 3), np.uint8)
    stored[person] = (255, 0, 77)
    stored[~person] = (0, 0, 77)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    Image.fromarray(stored).save(path, quality=100, exif=exif)


def coco_set(tmp_path, shape: tuple[int, int]):
    """One EXIF-rotated photo and a COCO file annotating its stored pixels (top-left block)."""
    person = np.zeros(shape, bool)
    person[: shape[0] // 2, : shape[1] // 3] = True
    exif_photo(tmp_path / "p.jpg", person)
    ann = {"images": [{"id": 1, "file_name": "p.jpg", "height": shape[0], "width": shape[1]}],
           "categories": [{"id": 1, "name": "person"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                            "segmentation": rle(person), "bbox": [0, 0, 1, 1], "area": 1.0}]}
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    return coco_samples(tmp_path / "ann.json", tmp_path), person


@pytest.mark.parametrize("shape", [(48, 48), (40, 64)], ids=["square", "non-square"])
def test_evaluate_scores_stored_pixels_against_coco_annotations(tmp_path, shape):
    """Square: applying EXIF rotated the prediction away from the truth (IoU 0.02 instead of
    ~1, exit 0). Non-square: the sizes differed and evaluation was refused."""
    samples, _ = coco_set(tmp_path, shape)
    result = evaluate(Segmenter(ChannelBackend(64)), samples, progress=False)
    assert result.metrics()["iou"] > 0.95
    assert (result.images[0].height, result.images[0].width) == shape


def test_grid_scores_and_shows_stored_pixels(tmp_path):
    samples, person = coco_set(tmp_path, (40, 64))
    fig = grid_from_samples(Segmenter(ChannelBackend(64)), samples, n=1)
    label = next(ax.get_ylabel() for ax in fig.axes if ax.get_ylabel())
    assert float(label.rsplit("IoU ", 1)[1]) > 0.95
    shown = fig.axes[0].get_images()[0].get_array()
    assert shown.shape[:2] == person.shape  # the input panel is the frame the truth describes


def test_evaluate_on_a_flat_root_with_exif_photos(tmp_path):
    """Downloaded image/mask sets (flat images/ + masks/) can carry EXIF tags too."""
    person = np.zeros((40, 64), bool)
    person[:20, :20] = True
    (tmp_path / "images").mkdir()
    exif_photo(tmp_path / "images/p.jpg", person)
    write_image(tmp_path / "masks/p.png", person.astype(np.uint8) * 255)
    result = evaluate(Segmenter(ChannelBackend(64)), prepared_samples(tmp_path, None), progress=False)
    assert result.metrics()["iou"] > 0.95


def test_training_reads_stored_pixels_and_sizes(tmp_path):
    """Size check (PIL header) and TF decoding both see the stored frame that the mask has."""
    from personseg.data.augment import decode_pair
    from personseg.data.pipeline import load_roots

    person = np.zeros((40, 64), bool)
    person[:20, :20] = True
    (tmp_path / "images").mkdir()
    exif_photo(tmp_path / "images/p.jpg", person)
    write_image(tmp_path / "masks/p.png", person.astype(np.uint8) * 255)
    (root,) = load_roots([str(tmp_path)], None)  # sizes agree: not refused
    image, mask = decode_pair(str(root.pairs[0].image), str(root.pairs[0].mask))
    assert tuple(image.shape[:2]) == tuple(mask.shape[:2]) == (40, 64)
    assert np.array_equal(np.asarray(image)[..., 0] > 127, np.asarray(mask)[..., 0] > 0)


def test_predict_on_photos_honours_exif(tmp_path):
    from personseg.inference.predict import run_predict

    person = np.zeros((40, 64), bool)
    person[:20, :20] = True
    exif_photo(tmp_path / "p.jpg", person)
    run_predict(Segmenter(ChannelBackend(64)), [str(tmp_path / "p.jpg")], tmp_path / "out", ["mask"],
                verbose=False)
    mask = read_mask(tmp_path / "out/p_mask.png") > 127
    assert mask.shape == (64, 40)  # upright, as a viewer shows the photo
    assert np.array_equal(mask, np.rot90(person, k=-1))  # orientation 6: 90° clockwise
