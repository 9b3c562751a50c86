"""Steadier video masks: an exponential moving average of the probability maps over frames, and
the flicker measure that says whether it helps.

Each frame is segmented on its own, so where the model is unsure (noise, compression, a
background that half looks like a person) the mask flips from frame to frame. `TemporalSmoother`
keeps a running average `s_t = (1 − w) · p_t + w · s_{t−1}`; with `motion_aware` (the default)
the weight `w` falls to 0 where the photo itself changed (a moving person), so smoothing calms
static parts without leaving a ghost behind motion. `flicker` is the mean absolute change of the
mask between consecutive frames: on a static scene every change is flicker.
`benchmarks/bench_flicker.py` measures both on static scenes (`benchmarks/results/flicker.json`).
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from personseg.errors import OptionError

MOTION_SCALE = 30.0  # grey-level change at which a pixel counts as moving (no smoothing there)


class TemporalSmoother:
    """Call it on each frame in order: `smoother(rgb, prob) -> smoothed prob`."""

    def __init__(self, strength: float = 0.6, motion_aware: bool = True):
        if not 0.0 <= strength < 1.0:
            raise OptionError("smooth", strength, "must be at least 0 and below 1 (0: off)")
        self.strength, self.motion_aware = strength, motion_aware
        self._state: np.ndarray | None = None
        self._grey: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray, prob: np.ndarray) -> np.ndarray:
        prob = np.asarray(prob, np.float32)
        if self.strength == 0.0:
            return prob
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) if self.motion_aware else None
        if self._state is None or self._state.shape != prob.shape:
            self._state = prob
        else:
            weight: float | np.ndarray = self.strength
            if grey is not None:
                change = cv2.blur(np.abs(grey - self._grey), (5, 5))
                weight = self.strength * np.clip(1.0 - change / MOTION_SCALE, 0.0, 1.0)
            self._state = (1.0 - weight) * prob + weight * self._state
        self._grey = grey
        return self._state


def flicker(masks: Iterable[np.ndarray]) -> float:
    """Mean absolute change between consecutive masks (bool or alpha in [0, 1]), averaged over
    pixels and frame pairs: 0 for a perfectly steady sequence, 1 if every pixel flips each frame."""
    previous, total, pairs = None, 0.0, 0
    for mask in masks:
        current = np.asarray(mask, np.float32)
        if previous is not None:
            total += float(np.abs(current - previous).mean())
            pairs += 1
        previous = current
    return total / pairs if pairs else 0.0
