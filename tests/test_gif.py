"""GIFs follow one rule wherever a photo is read: a still GIF is segmented whether it is named or
found in a folder; an animated GIF is refused with the same reason either way (and by `serve`),
never segmented as its first frame."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from personseg.inference.render import Look
from personseg.serve.app import create_app
from tests.cli_run import run_cli
from tests.test_predict_safety import fake_backend  # noqa: F401 - the fixture
from tests.test_serve_budget import SlowSegmenter

ANIMATED = "an animated GIF (3 frames); convert it to a video (MP4)"


def gif(frames: int) -> bytes:
    pictures = [Image.fromarray(np.full((20, 30, 3), 40 + 60 * i, np.uint8)) for i in range(frames)]
    buffer = io.BytesIO()
    pictures[0].save(buffer, "GIF", save_all=frames > 1, append_images=pictures[1:])
    return buffer.getvalue()


def test_still_and_animated_gifs_are_treated_alike_named_or_in_a_folder(tmp_path, fake_backend,  # noqa: F811
                                                                          capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "still.gif").write_bytes(gif(1))
    (folder / "moving.gif").write_bytes(gif(3))
    named = [folder / "still.gif", folder / "moving.gif"]
    for inputs, out in (([folder], tmp_path / "a"), (named, tmp_path / "b")):
        code, _, err = run_cli(capsys, "predict", *inputs, "--out", out, "--save", "mask")
        assert code == 1
        assert f"{folder / 'moving.gif'}: {ANIMATED}" in err
        assert sorted(p.name for p in out.iterdir()) == ["still_mask.png"]


def test_serve_refuses_an_animated_gif_with_the_reason():
    client = create_app(SlowSegmenter(), Look(), max_pixels=1_000_000).test_client()
    response = client.post("/v1/segment", data={"image": (io.BytesIO(gif(3)), "moving.gif")})
    assert response.status_code == 400 and f"moving.gif: {ANIMATED}" in response.get_json()["error"]
    response = client.post("/v1/segment?format=png&kind=mask", data={"image": (io.BytesIO(gif(1)), "s.gif")})
    assert response.status_code == 200
