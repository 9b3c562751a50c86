"""`personseg serve`'s HTTP API through Flask's test client, with the packaged model on a real
photo: JSON and PNG answers, and the 4xx answers for what it refuses."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import pytest

from personseg.files import read_rgb
from personseg.inference.render import Look
from personseg.inference.sample_photos import sample_images
from personseg.inference.segmenter import Segmenter
from personseg.serve.app import create_app


class CountingSegmenter:
    """The real Segmenter, counting calls (one shared model serves every request)."""

    def __init__(self, seg):
        self.seg, self.calls = seg, 0

    def predict(self, image):
        self.calls += 1
        return self.seg.predict(image)


@pytest.fixture(scope="module")
def seg():
    return CountingSegmenter(Segmenter.pretrained())


@pytest.fixture(scope="module")
def photo_bytes():
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(sample_images()["grace_hopper"], cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


@pytest.fixture
def client(seg):
    return create_app(seg, Look(), max_bytes=2 * 1024 * 1024, max_pixels=1_000_000).test_client()


def decode_data_url(url: str) -> np.ndarray:
    header, payload = url.split(",", 1)
    assert header in ("data:image/png;base64", "data:image/jpeg;base64")
    return cv2.imdecode(np.frombuffer(base64.b64decode(payload), np.uint8), cv2.IMREAD_UNCHANGED)


def test_json_answer_has_every_picture_at_the_photo_size(client, seg, photo_bytes):
    before = seg.calls
    response = client.post("/v1/segment", data={"image": (io.BytesIO(photo_bytes), "hopper.jpg")})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["width"], body["height"]) == (512, 600)
    assert 0.1 < body["person_fraction"] < 0.9 and body["edges"] == "refined"
    assert set(body["images"]) == {"mask", "overlay", "cutout", "blur", "replace"}
    cut = decode_data_url(body["images"]["cutout"])
    assert cut.shape == (600, 512, 4)
    alpha = cut[..., 3]
    assert (alpha == 0).mean() > 0.1 and (alpha == 255).mean() > 0.1  # transparent and opaque
    assert ((alpha > 0) & (alpha < 255)).any()  # refined edges
    mask = decode_data_url(body["images"]["mask"])
    assert mask.shape == (600, 512) and set(np.unique(mask)) <= {0, 255}
    for kind in ("overlay", "blur", "replace"):
        assert decode_data_url(body["images"][kind]).shape == (600, 512, 3)
    assert seg.calls == before + 1


def test_png_answer_and_options(client, photo_bytes):
    response = client.post("/v1/segment?format=png&kind=cutout&edges=sharp",
                           data={"image": (io.BytesIO(photo_bytes), "hopper.jpg")})
    assert response.status_code == 200 and response.mimetype == "image/png"
    rgba = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (600, 512, 4) and set(np.unique(rgba[..., 3])) == {0, 255}  # sharp
    response = client.post("/v1/segment", data={"image": (io.BytesIO(photo_bytes), "h.jpg"),
                                                "background": "0,255,0", "format": "png", "kind": "replace"})
    replaced = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    assert tuple(replaced[5, 5]) == (0, 255, 0)  # BGR; the top-left corner is background


def test_raw_body_and_a_background_photo(client, photo_bytes, tmp_path):
    response = client.post("/v1/segment?format=png&kind=mask", data=photo_bytes, content_type="image/jpeg")
    assert response.status_code == 200
    backdrop = np.zeros((50, 50, 3), np.uint8)
    backdrop[:] = (200, 10, 10)
    ok, data = cv2.imencode(".png", backdrop)
    response = client.post("/v1/segment", data={"image": (io.BytesIO(photo_bytes), "h.jpg"),
                                                "background_image": (io.BytesIO(data.tobytes()), "b.png"),
                                                "format": "png", "kind": "replace"})
    replaced = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    assert tuple(replaced[5, 5]) == (200, 10, 10)


@pytest.mark.parametrize("data,status,message", [
    ({"image": (io.BytesIO(b"hello, not a photo"), "notes.txt")}, 400, "notes.txt: not an image"),
    ({"image": (io.BytesIO(b""), "empty.jpg")}, 400, "empty.jpg: the file is empty"),
    ({}, 400, "image: missing"),
    ({"image": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "big.jpg")}, 413, "larger than the limit of 2 MB"),
])
def test_refusals_are_4xx_with_a_message(client, data, status, message):
    response = client.post("/v1/segment", data=data)
    assert response.status_code == status
    assert message in response.get_json()["error"]


def test_too_many_pixels_and_bad_options_are_refused(client, photo_bytes):
    ok, big = cv2.imencode(".png", np.zeros((1200, 1000, 3), np.uint8))  # 1.2 MP, a small file
    response = client.post("/v1/segment", data={"image": (io.BytesIO(big.tobytes()), "wide.png")})
    assert response.status_code == 413 and "too many pixels" in response.get_json()["error"]
    for options, message in (({"edges": "fuzzy"}, "edges fuzzy: choose one of sharp|soft|refined"),
                             ({"background": "/etc/hostname"}, "background /etc/hostname: must be a colour"),
                             ({"blur_strength": "lots"}, "blur_strength lots: must be a number"),
                             ({"format": "gif"}, "format gif")):
        response = client.post("/v1/segment", data={"image": (io.BytesIO(photo_bytes), "h.jpg"), **options})
        assert response.status_code == 400 and message in response.get_json()["error"], options


def test_page_and_health(client):
    page = client.get("/")
    assert page.status_code == 200 and b'id="file"' in page.data and b"up to 2 MB" in page.data
    assert client.get("/v1/health").get_json()["status"] == "ok"
    assert client.get("/nope").status_code == 404 and "error" in client.get("/nope").get_json()
    assert client.get("/v1/segment").status_code == 405


def test_a_sample_photo_round_trips_like_the_library(client, seg, photo_bytes, tmp_path):
    """The endpoint's mask equals Segmenter.mask on the same decoded photo."""
    (tmp_path / "h.jpg").write_bytes(photo_bytes)
    expected = seg.seg.mask(read_rgb(tmp_path / "h.jpg"))
    response = client.post("/v1/segment?format=png&kind=mask",
                           data={"image": (io.BytesIO(photo_bytes), "h.jpg")})
    mask = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(mask > 0, expected)
