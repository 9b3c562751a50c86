"""Result grids — input | probability | mask @threshold | ground truth, one row per image — and
which rows they show: the first N images, or the K worst by IoU. `personseg grid` and the
notebooks draw them with these functions."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure  # no pyplot: never touches the user's backend or state

from personseg.errors import UserError
from personseg.evaluation.evaluate import iter_probabilities
from personseg.evaluation.metrics import Confusion
from personseg.evaluation.samples import Sample
from personseg.files import read_rgb


def result_grid(
    images: list[np.ndarray],
    probs: list[np.ndarray],
    truths: list[np.ndarray] | None = None,
    threshold: float = 0.5,
    titles: list[str] | None = None,
    panel_height: float = 2.6,
) -> Figure:
    """One row per image: input | probabilities | mask @threshold | ground truth (if given).

    Row titles carry the image's IoU when ground truth is given, so a worst-k grid explains
    itself. Returns a pyplot-free Figure: save it with `fig.savefig`, or show it in a notebook.
    """
    if len(images) != len(probs) or (truths is not None and len(truths) != len(images)):
        raise ValueError("images, probs and truths must have the same length")
    if not images:
        raise ValueError("result_grid needs at least one image")
    columns = ["input", "prediction (probability)", f"mask @{threshold:g}"]
    if truths is not None:
        columns.append("ground truth")
    aspect = max(image.shape[1] / image.shape[0] for image in images)
    fig = Figure(figsize=(len(columns) * panel_height * min(aspect, 2.0), len(images) * panel_height))
    axes = fig.subplots(len(images), len(columns), squeeze=False)
    for row, (image, prob) in enumerate(zip(images, probs, strict=True)):
        pred = prob >= threshold
        binary = {"cmap": "gray", "vmin": 0, "vmax": 1}  # fixed range: an all-person mask is white
        panels = [(image, {}), (prob, {"cmap": "magma", "vmin": 0, "vmax": 1}), (pred, binary)]
        label = titles[row] if titles else f"#{row}"
        if truths is not None:
            truth = np.asarray(truths[row], bool)
            panels.append((truth, binary))
            label += f"  IoU {Confusion.of(pred, truth).iou:.3f}"
        for col, (ax, (picture, style)) in enumerate(zip(axes[row], panels, strict=True)):
            ax.imshow(picture, interpolation="nearest", **style)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=9)
        axes[row][0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig


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
        rows.append(((counts.iou, -wrong, index), sample.name, read_rgb(sample.image, orientation=False),
                     prob, truth))  # stored pixels: the frame the truth describes
        if worst is not None:
            rows = sorted(rows, key=lambda r: r[0])[:keep]
    if not rows:
        raise UserError("no images for the grid")
    return result_grid([r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows],
                       threshold=threshold, titles=[r[1] for r in rows])


def grid_from_images(seg, inputs: list[str], n: int = 8, threshold: float = 0.5) -> tuple[Figure, list[str]]:
    """Grid without ground truth for images, folders and glob patterns (first `n` readable images),
    and the inputs that failed (missing, unreadable, or videos) for the caller to report."""
    from personseg.inference.inputs import collect_inputs, is_video

    found = collect_inputs(inputs)
    failures = list(found.failures)
    images, names = [], []
    for path in found.files:
        if len(images) == n:
            break
        if is_video(path):
            failures.append(f"{path}: a video; grids take still images")
            continue
        try:
            images.append(read_rgb(path))
            names.append(path.name)
        except UserError as exc:
            failures.append(str(exc))
    if not images:
        detail = f" ({failures[0]})" if failures else ""
        raise UserError(f"no readable input images for the grid{detail}")
    probs = seg.predict_batch(images)
    return result_grid(images, probs, threshold=threshold, titles=names), failures
