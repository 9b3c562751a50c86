"""Which images a result grid shows: the first N, the K worst by IoU, or a mix that teaches —
a large person, small people, a crowd, an image with nobody in it, and the worst cases.

The choice is made on per-image statistics (`ImageStats`: the ground truth's person share and
people count, the prediction's IoU and wrong pixels), so it is a pure function of numbers; one
model pass over the samples (`scan`) computes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from personseg.evaluation.evaluate import iter_probabilities
from personseg.evaluation.metrics import Confusion
from personseg.evaluation.samples import Sample

CROWD_PEOPLE = 4  # without a crowd region, an image needs this many people to count as a crowd
SMALL_QUANTILE = 0.25  # "small people": this quantile of the person share: small, yet visible
MIX_ROWS = 6  # large person, small people, crowd, no person, two worst


@dataclass(frozen=True)
class ImageStats:
    """What the chooser knows about one sample (`index` into the sample list)."""

    index: int
    person: float  # share of ground-truth pixels that are person
    people: int  # person instances (counted from the mask when the source does not say)
    crowd: bool  # the annotations mark a crowd region
    iou: float
    wrong: float  # share of pixels the prediction gets wrong (ties between equal IoUs)


def count_blobs(truth: np.ndarray, min_share: float = 0.0005) -> int:
    """Separate person regions in a mask, ignoring specks below `min_share` of the image."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(truth.astype(np.uint8), connectivity=8)
    return int(np.count_nonzero(stats[1:count, cv2.CC_STAT_AREA] >= min_share * truth.size))


def image_stats(index: int, sample: Sample, prob: np.ndarray, truth: np.ndarray,
                threshold: float = 0.5) -> ImageStats:
    counts = Confusion.of(prob >= threshold, truth)
    people = sample.persons if sample.persons is not None else count_blobs(truth)
    return ImageStats(index, float(truth.mean()) if truth.size else 0.0, people, bool(sample.crowds),
                      counts.iou, (counts.fp + counts.fn) / max(truth.size, 1))


def scan(seg, samples: list[Sample], threshold: float = 0.5, batch_size: int = 8) -> Iterator[ImageStats]:
    """One model pass: the statistics of every sample, in order (probabilities are not kept)."""
    for index, (sample, prob) in enumerate(iter_probabilities(seg, samples, batch_size)):
        yield image_stats(index, sample, prob, sample.truth(), threshold)


def worst_order(stats: list[ImageStats]) -> list[ImageStats]:
    """Lowest IoU first; among equal IoUs (e.g. many at 0) the most wrong pixels first."""
    return sorted(stats, key=lambda s: (s.iou, -s.wrong, s.index))


def choose_worst(stats: list[ImageStats], k: int) -> list[tuple[ImageStats, str]]:
    return [(s, "") for s in worst_order(stats)[:k]]


def _ordinal(rank: int) -> str:
    return {1: "worst", 2: "2nd worst", 3: "3rd worst"}.get(rank, f"{rank}th worst")


def choose_mix(stats: list[ImageStats], n: int = MIX_ROWS) -> list[tuple[ImageStats, str]]:
    """Up to `n` distinct images, each with the role it was chosen for, in display order:
    large person, small people, crowd, no person, then the worst by IoU.

    Roles are filled by priority — large person, no person, worst, small people, crowd, more
    worst — so even a short grid shows people, an empty image (when the data has one) and a
    failure. Worst cases are taken among images with people (an empty image's IoU is 0 after a
    single stray pixel); "no person" is the empty image with the most false positives. Roles the
    data cannot fill (no crowd, no empty image) go to the next worst.
    """
    people = [s for s in stats if s.person > 0]
    empty = [s for s in stats if s.person == 0]
    ascending = sorted(people, key=lambda s: (s.person, s.index))
    start = int(SMALL_QUANTILE * (len(ascending) - 1))
    crowds = [s for s in people if s.crowd or s.people >= CROWD_PEOPLE]
    candidates = {
        "large person": ascending[::-1],
        "small people": ascending[start:] + ascending[:start][::-1],
        "crowd": sorted(crowds, key=lambda s: (not s.crowd, -s.people, s.index)),
        "no person": sorted(empty, key=lambda s: (-s.wrong, s.index)),
        "worst": worst_order(people or stats),
    }
    priority = ["large person", "no person", "worst", "small people", "crowd"] + ["worst"] * len(stats)
    chosen: dict[int, tuple[ImageStats, str]] = {}
    for role in priority:
        if len(chosen) >= n:
            break
        pick = next((s for s in candidates[role] if s.index not in chosen), None)
        if pick is not None:
            chosen[pick.index] = (pick, role)
    for s in worst_order(stats):  # data with too few images for every role: the rest, worst first
        if len(chosen) >= n:
            break
        chosen.setdefault(s.index, (s, "worst"))
    order = list(candidates)
    rows = sorted(chosen.values(), key=lambda r: (order.index(r[1]), r[0].iou, -r[0].wrong, r[0].index))
    labelled, rank = [], 0
    for s, role in rows:
        if role == "worst":
            rank += 1
            role = _ordinal(rank)
        labelled.append((s, role))
    return labelled
