"""Choose the rows of a result grid: the first N images, or the K worst by IoU."""

from __future__ import annotations

from matplotlib.figure import Figure

from personseg.errors import UserError
from personseg.evaluate import Sample, iter_probabilities
from personseg.io import read_rgb
from personseg.metrics import Confusion
from personseg.plotting import result_grid


def grid_from_samples(seg, samples: list[Sample], n: int = 8, worst: int | None = None,
                      threshold: float = 0.5, batch_size: int = 8) -> Figure:
    """Grid with ground truth: the first `n` samples, or the `worst` lowest-IoU ones of all.

    For worst-k only the k current worst rows are kept while scanning, so memory stays small.
    """
    keep = worst if worst is not None else n
    candidates = samples if worst is not None else samples[:n]
    rows: list[tuple] = []
    for index, (sample, prob) in enumerate(iter_probabilities(seg, candidates, batch_size)):
        truth = sample.truth()
        counts = Confusion.of(prob >= threshold, truth)
        wrong = (counts.fp + counts.fn) / truth.size  # ties (e.g. many IoU 0): most wrong pixels first
        rows.append(((counts.iou, -wrong, index), sample.name, read_rgb(sample.image), prob, truth))
        if worst is not None:
            rows = sorted(rows, key=lambda r: r[0])[:keep]
    if not rows:
        raise UserError("no images for the grid")
    return result_grid([r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows],
                       threshold=threshold, titles=[r[1] for r in rows])


def grid_from_images(seg, inputs: list[str], n: int = 8, threshold: float = 0.5) -> Figure:
    """Grid without ground truth for images, folders and glob patterns (first `n` images)."""
    from personseg.predict import Report, collect_inputs, is_video

    report = Report()
    paths = [p for p in collect_inputs(inputs, None, report) if not is_video(p)]
    images, names = [], []
    for path in paths:
        if len(images) == n:
            break
        try:
            images.append(read_rgb(path))
            names.append(path.name)
        except UserError as exc:
            report.fail(str(exc))
    if not images:
        raise UserError("no readable input images for the grid")
    probs = seg.predict_batch(images)
    return result_grid(images, probs, threshold=threshold, titles=names)
