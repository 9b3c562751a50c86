"""`personseg serve`'s per-request budgets: a request past its time budget, or one that finds no
room for its pixels in time, gets HTTP 503 with a message and frees its thread; bad `--host`
and budget flags are one error line."""

from __future__ import annotations

import io
import threading
import time

import cv2
import numpy as np
import pytest

from personseg.inference.render import Look
from personseg.serve.app import create_app
from personseg.serve.budget import Budget, Deadline
from personseg.serve.uploads import Rejected
from tests.cli_run import assert_error


class SlowSegmenter:
    """Probabilities of 0.5 everywhere, after `delay` seconds or once `release` is set."""

    def __init__(self, delay: float = 0.0, release: threading.Event | None = None):
        self.delay, self.release, self.calls = delay, release, 0

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.release is not None:
            self.release.wait(10)
        time.sleep(self.delay)
        return np.full(rgb.shape[:2], 0.5, np.float32)


def png(height: int, width: int) -> bytes:
    ok, data = cv2.imencode(".png", np.full((height, width, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


def post(client, data: bytes, query: str = "?format=png&kind=mask"):
    return client.post(f"/v1/segment{query}", data={"image": (io.BytesIO(data), "p.png")})


def test_a_request_past_its_time_budget_is_503_and_the_server_goes_on():
    seg = SlowSegmenter(delay=0.4)
    client = create_app(seg, Look(), max_pixels=1_000_000, seconds=0.2).test_client()
    response = post(client, png(40, 40))
    assert response.status_code == 503
    assert "over this server's time budget of 0.2 s" in response.get_json()["error"]
    seg.delay = 0.0
    assert post(client, png(40, 40)).status_code == 200  # nothing left stuck


def test_a_request_without_room_for_its_pixels_waits_then_gets_503():
    release = threading.Event()
    seg = SlowSegmenter(release=release)
    app = create_app(seg, Look(), max_pixels=1_000_000, seconds=0.5)
    holder = threading.Thread(target=lambda: post(app.test_client(), png(900, 900)))
    holder.start()  # holds 0.81 MP of the 1 MP pool until released
    waited = time.monotonic()
    while seg.calls == 0 and time.monotonic() - waited < 10:  # until it holds them, on any CPU
        time.sleep(0.01)
    started = time.monotonic()
    response = post(app.test_client(), png(900, 900))
    assert response.status_code == 503 and "server busy" in response.get_json()["error"]
    assert time.monotonic() - started < 2
    release.set()
    holder.join(10)
    assert post(app.test_client(), png(40, 40)).status_code == 200  # the pool is free again


def test_the_pixel_pool_is_returned_after_a_failure():
    budget = Budget(max_pixels=100, seconds=1)
    with pytest.raises(RuntimeError), budget.hold(100, budget.deadline()):
        raise RuntimeError("render failed")
    with budget.hold(100, Deadline(0.1)):  # room again
        pass
    with pytest.raises(Rejected) as caught, budget.hold(60, budget.deadline()), \
            budget.hold(60, Deadline(0.05)):
        pass
    assert caught.value.status == 503


@pytest.mark.parametrize("flags, message", [
    (["--host", "999.1.1.1"], "--host 999.1.1.1: not an IP address"),
    (["--max-megapixels", "nan"], "--max-megapixels nan: must be above 0"),
    (["--request-seconds", "0"], "--request-seconds 0.0: must be above 0"),
    (["--max-upload-mb", "inf"], "--max-upload-mb inf: must be above 0"),
])
def test_bad_serve_flags_are_one_error_line(capsys, flags, message):
    assert_error(capsys, "serve", *flags, message=message)
