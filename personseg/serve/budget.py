"""Per-request budgets of `personseg serve`, so big photos cannot tie the server up:

- pixels: requests in progress hold their photos' pixels from a shared pool (`max_pixels`, by
  default one 40 MP photo's worth); a request waits for room, at most its time budget;
- time: each request has `seconds` from its arrival; waiting for room or for the model, or
  running past it, ends the request with HTTP 503 and a message (try again, or a smaller photo),
  releasing its thread and its pixels. Every stage a request runs is itself bounded
  (`inference.bounded`), so a thread is never stuck.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from personseg.serve.uploads import Rejected

DEFAULT_SECONDS = 30.0


class Deadline:
    """When a request must be answered by; `check` ends it (503) once past."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def check(self, stage: str) -> None:
        if time.monotonic() > self.at:
            raise Rejected(503, f"{stage}: over this server's time budget of {self.seconds:g} s per "
                                "request; try again, or send a smaller photo")


class Budget:
    """The pixel pool and the time budget every request of one server shares."""

    def __init__(self, max_pixels: int, seconds: float = DEFAULT_SECONDS):
        if max_pixels < 1 or not seconds > 0:
            raise ValueError("a budget needs pixels ≥ 1 and seconds > 0")
        self.max_pixels, self.seconds = max_pixels, seconds
        self._free = max_pixels
        self._room = threading.Condition()

    def deadline(self) -> Deadline:
        return Deadline(self.seconds)

    @contextmanager
    def hold(self, pixels: int, deadline: Deadline) -> Iterator[None]:
        """Hold `pixels` of the pool while the block runs; 503 if no room before the deadline."""
        pixels = min(pixels, self.max_pixels)  # a photo over the limit is refused before this
        with self._room:
            while self._free < pixels:
                if not self._room.wait(deadline.remaining()) and self._free < pixels:
                    raise Rejected(503, f"server busy: no room for a {pixels / 1e6:.1f} MP photo within "
                                        f"{self.seconds:g} s; try again shortly")
            self._free -= pixels
        try:
            yield
        finally:
            with self._room:
                self._free += pixels
                self._room.notify_all()

    @contextmanager
    def lock(self, lock: threading.Lock, deadline: Deadline) -> Iterator[None]:
        """Hold `lock` (the shared model) while the block runs; 503 if not free before the deadline."""
        if not lock.acquire(timeout=deadline.remaining() or 0.001):
            raise Rejected(503, f"server busy: the model was not free within {self.seconds:g} s; "
                                "try again shortly")
        try:
            yield
        finally:
            lock.release()
