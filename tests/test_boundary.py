"""Edge-quality measures: boundary F-score and soft IoU in a band around the true outline."""

from __future__ import annotations

import numpy as np

from personseg.evaluation.boundary import band_scores, boundary_fscore, edge_band, outline


def disc(shape=(200, 200), centre=(100, 100), radius=60) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def test_outline_is_one_pixel_inside_the_mask():
    mask = np.zeros((10, 10), bool)
    mask[2:8, 3:9] = True
    edge = outline(mask)
    assert edge.sum() == 2 * 6 + 2 * 4 and not (edge & ~mask).any()


def test_boundary_fscore_rewards_close_outlines_only():
    truth = disc()
    assert boundary_fscore(truth, truth) == 1.0
    assert boundary_fscore(disc(centre=(100, 101)), truth) == 1.0  # within 0.8 % of the diagonal
    assert boundary_fscore(disc(centre=(100, 110)), truth) < 0.5
    assert boundary_fscore(np.zeros_like(truth), truth) == 0.0
    assert boundary_fscore(np.zeros_like(truth), np.zeros_like(truth)) == 1.0
    assert boundary_fscore(truth.astype(np.float32) * 0.7, truth) == 1.0  # alpha read at 0.5


def test_band_iou_gives_partial_credit_for_partial_alpha():
    truth = disc()
    band = edge_band(truth)
    assert band.sum() > 0 and not band[100, 100] and not band[0, 0]
    assert band_scores(truth, truth) == (1.0, 0.0)
    half = truth.astype(np.float32) * 0.5
    iou, mae = band_scores(half, truth)
    assert abs(iou - 0.5) < 1e-6 and 0 < mae < 0.5
    assert band_scores(~truth, truth)[0] < 0.05
