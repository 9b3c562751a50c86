"""benchmarks/bench_versus.py: models timed in turns, ratios of per-round medians."""

from __future__ import annotations

import importlib.util

import numpy as np

from tests.conftest import REPO


def load_script():
    spec = importlib.util.spec_from_file_location("bench_versus", REPO / "benchmarks" / "bench_versus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Recorder:
    """A stand-in backend: records which model ran and the input shape it got."""

    def __init__(self, name: str, size: int, log: list):
        self.name, self.input_size, self.log = name, (size, size), log

    def predict(self, x):
        self.log.append((self.name, x.shape))
        return np.zeros(x.shape[:3], np.float32)


def test_models_take_turns_and_the_first_to_run_moves_each_round():
    log: list = []
    backends = {name: Recorder(name, size, log) for name, size in (("a", 64), ("b", 96), ("c", 32))}
    times = load_script().time_in_turns(backends, rounds=3, calls=2, warmup=1)
    assert {name: t.shape for name, t in times.items()} == {"a": (3, 2), "b": (3, 2), "c": (3, 2)}
    timed = [name for name, _ in log[3:]]  # after one warm-up call each
    assert timed == ["a", "a", "b", "b", "c", "c", "b", "b", "c", "c", "a", "a", "c", "c", "a", "a", "b", "b"]
    shapes = {"a": (1, 64, 64, 3), "b": (1, 96, 96, 3), "c": (1, 32, 32, 3)}
    assert {name: shape for name, shape in log} == shapes


def test_ratios_are_of_per_round_medians_so_a_slow_round_cancels():
    """Round 2 is 4× slower for both models and its ratio stays 0.5; in round 3 only B is slow: a
    ratio of 2 there, which shows in the spread of the rounds and not in the median."""
    a = np.array([[1.0, 1.0, 9.0], [4.0, 4.0, 4.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    b = np.array([[0.5, 0.5, 0.1], [2.0, 2.0, 2.0], [2.0, 2.0, 2.0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]])
    rows = load_script().summarise({"a": a, "b": b})
    assert rows["a"]["ratio_to_a"] == 1.0 and rows["a"]["ratio_p5_p95"] == [1.0, 1.0]
    assert rows["b"]["ratio_to_a"] == 0.5
    low, high = rows["b"]["ratio_p5_p95"]
    assert low == 0.5 and 1.5 < high < 2.0  # the 95th percentile reaches towards round 3's 2.0
    assert rows["b"]["median_ms"] == 0.5 and rows["a"]["median_ms"] == 1.0  # all calls pooled


def test_a_model_can_be_timed_on_a_canvas_of_its_own():
    import pytest

    script = load_script()
    assert script.parse_spec("pretrained:fast@256x192") == ("pretrained:fast", (256, 192))
    assert script.parse_spec("runs/a@b/model.onnx") == ("runs/a@b/model.onnx", None)
    assert script.parse_spec("peer:mediapipe-selfie") == ("peer:mediapipe-selfie", None)
    with pytest.raises(SystemExit, match="multiples of 32"):
        script.parse_spec("pretrained:fast@250x192")
    log: list = []
    backends = {"a": Recorder("a", 64, log), "a@32x96": Recorder("a@32x96", 64, log)}
    script.time_in_turns(backends, rounds=1, calls=1, warmup=0, canvases={"a@32x96": (32, 96)})
    assert dict(log) == {"a": (1, 64, 64, 3), "a@32x96": (1, 32, 96, 3)}
