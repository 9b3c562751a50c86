"""docs/architecture.md's "to add X, touch these files", checked by adding X: a new output kind is
one `render.KINDS` entry, a new runtime one `backends.BACKENDS` entry (plus its extension in
`BY_SUFFIX`) and its own module; every command, the server and the API then offer it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from personseg.backends import BACKENDS, BY_SUFFIX
from personseg.files import read_rgb, write_image
from personseg.inference.render import KINDS, Kind, Look
from personseg.inference.segmenter import Segmenter
from tests.cli_run import run_cli
from tests.fakes import ChannelBackend


class FileBackend(ChannelBackend):
    """A runtime as `load_backend` opens one: its model file and options."""

    def __init__(self, path, size: int = 64, threads: int | None = None):
        super().__init__(size)
        self.path = path


@pytest.fixture
def photo(tmp_path):
    rgb = np.zeros((48, 40, 3), np.uint8)
    rgb[8:40, 10:30] = (200, 30, 90)  # red channel ≥ 128: person for ChannelBackend
    write_image(tmp_path / "photo.png", rgb)
    return tmp_path / "photo.png"


@pytest.fixture
def gray_kind(monkeypatch):
    """A trivial new output kind: the photo in grey. Registering it is the whole change."""
    monkeypatch.setitem(KINDS, "gray", Kind(".png", lambda f: f.rgb.mean(axis=2).astype(np.uint8)))


@pytest.fixture
def channel_model(monkeypatch):
    monkeypatch.setattr(Segmenter, "open", classmethod(lambda cls, *a, **k: cls(ChannelBackend(64))))


def test_a_new_output_kind_reaches_predict_cutout_serve_and_the_api(tmp_path, capsys, photo, gray_kind,
                                                                      channel_model):
    from personseg import remove
    from personseg.serve.app import create_app

    expected = read_rgb(photo).mean(axis=2).astype(np.uint8)
    code, _, err = run_cli(capsys, "predict", photo, "--out", tmp_path / "out", "--save", "gray,mask")
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "photo_gray.png")), expected)
    code, _, err = run_cli(capsys, "cutout", photo, tmp_path / "gray.png", "--kind", "gray")
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "gray.png")), expected)
    client = create_app(Segmenter(ChannelBackend(64)), Look()).test_client()
    reply = client.post("/v1/segment?format=png&kind=gray", data={"image": (photo.open("rb"), "p.png")})
    assert reply.status_code == 200, reply.json
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(reply.data))), expected)
    assert np.array_equal(remove(read_rgb(photo), model=Segmenter(ChannelBackend(64)), kind="gray"), expected)


def test_a_new_runtime_reaches_segmenter_and_every_command(tmp_path, capsys, photo, monkeypatch):
    monkeypatch.setitem(BACKENDS, "channel", ("tests.test_seams", "FileBackend", False))
    monkeypatch.setitem(BY_SUFFIX, ".channel", "channel")
    model = tmp_path / "model.channel"
    model.write_text("a model file of the new runtime")
    seg = Segmenter.open(str(model))  # auto: by the extension
    assert isinstance(seg.backend, FileBackend) and seg.backend.path == model
    for backend in ("auto", "channel"):  # --backend offers it too
        out = tmp_path / f"out-{backend}"
        code, _, err = run_cli(capsys, "predict", photo, "--weights", model, "--backend", backend,
                               "--out", out)
        assert code == 0, err
        assert (out / "photo_mask.png").is_file()
