"""Result grids — input | probability | mask @threshold | ground truth, one row per image, each
row labelled with why it is there, the file and its IoU. `personseg grid` and the notebooks draw
them with these functions; `grid_rows` chooses the rows (first N, worst K, or a teaching mix)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure  # no pyplot: never touches the user's backend or state

from personseg.errors import UserError
from personseg.evaluation.evaluate import iter_probabilities
from personseg.evaluation.grid_rows import MIX_ROWS, choose_mix, choose_worst, scan
from personseg.evaluation.metrics import Confusion
from personseg.evaluation.samples import Sample
from personseg.files import read_rgb

# Sized for a notebook: `personseg.display.show` draws at 80 dpi, where 12 in is 960 px (no
# scaling down in a notebook's output area) and 12 pt is 13.3 px, i.e. 10 pt in a browser.
WIDTH_IN = 12.0
TITLE_PT = 13
LABEL_PT = 12
_LABEL_IN, _COLORBAR_IN = 0.75, 0.8  # room for the row labels and the colour bar


def result_grid(
    images: list[np.ndarray],
    probs: list[np.ndarray],
    truths: list[np.ndarray] | None = None,
    threshold: float = 0.5,
    titles: list[str] | None = None,
    notes: list[str] | None = None,
    width: float = WIDTH_IN,
) -> Figure:
    """One row per image: input | probability (with a colour bar) | mask @threshold | ground
    truth (if given).

    Each row is labelled with its note (why it was chosen), its title (the file) and, with
    ground truth, its IoU — or, for an image with nobody in it, the share of pixels marked as
    person. Returns a pyplot-free Figure: save it with `fig.savefig`, or show it in a notebook.
    """
    if len(images) != len(probs) or (truths is not None and len(truths) != len(images)):
        raise ValueError("images, probs and truths must have the same length")
    if not images:
        raise ValueError("result_grid needs at least one image")
    columns = ["input", "probability", f"mask @{threshold:g}"]
    if truths is not None:
        columns.append("ground truth")
    aspect = float(np.clip(np.median([image.shape[1] / image.shape[0] for image in images]), 0.6, 2.0))
    panel = (width - _LABEL_IN - _COLORBAR_IN) / len(columns)
    fig = Figure(figsize=(width, len(images) * panel / aspect + 0.4), layout="constrained")
    axes = fig.subplots(len(images), len(columns), squeeze=False)
    binary = {"cmap": "gray", "vmin": 0, "vmax": 1}  # fixed range: an all-person mask is white
    for row, (image, prob) in enumerate(zip(images, probs, strict=True)):
        pred = prob >= threshold
        panels = [(image, {}), (prob, {"cmap": "magma", "vmin": 0, "vmax": 1}), (pred, binary)]
        lines = [notes[row]] if notes and notes[row] else []
        lines.append(titles[row] if titles else f"#{row}")
        if truths is not None:
            truth = np.asarray(truths[row], bool)
            panels.append((truth, binary))
            counts = Confusion.of(pred, truth)
            share = f"{counts.positive_rate:.1%} marked person"
            lines.append(f"IoU {counts.iou:.3f}" if truth.any() else share)
        for col, (ax, (picture, style)) in enumerate(zip(axes[row], panels, strict=True)):
            ax.imshow(picture, interpolation="nearest", **style)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=TITLE_PT)
        axes[row][0].set_ylabel("\n".join(lines), fontsize=LABEL_PT)
    bar = fig.colorbar(axes[0][1].get_images()[0], ax=axes[:, 1], ticks=[0, 0.5, 1],
                       shrink=min(1.0, 0.95 / len(images)), anchor=(0.0, 1.0), aspect=12)
    bar.ax.tick_params(labelsize=LABEL_PT)
    return fig


def grid_from_samples(seg, samples: list[Sample], n: int | None = None, worst: int | None = None,
                      mix: int | None = None, threshold: float = 0.5, batch_size: int = 8) -> Figure:
    """Grid with ground truth. Rows: the first `n` samples, the `worst` lowest-IoU ones, or a
    `mix` that teaches (see `grid_rows.choose_mix`); give at most one, default a mix of 6.

    `worst` and `mix` run the model over every sample once to choose (keeping only per-image
    numbers, so memory stays small), then again over the chosen rows to draw them.
    """
    if sum(value is not None for value in (n, worst, mix)) > 1:
        raise ValueError("give one of n, worst and mix")
    if not samples:
        raise UserError("no images for the grid")
    if n is not None:
        rows = [(sample, "") for sample in samples[:n]]
    else:
        stats = list(scan(seg, samples, threshold, batch_size))
        chosen = choose_worst(stats, worst) if worst is not None else choose_mix(stats, mix or MIX_ROWS)
        rows = [(samples[s.index], note) for s, note in chosen]
    chosen_samples = [sample for sample, _ in rows]
    probs = [prob for _, prob in iter_probabilities(seg, chosen_samples, batch_size)]
    # stored pixels (EXIF ignored): the frame the ground truth describes
    images = [read_rgb(sample.image, orientation=False) for sample in chosen_samples]
    return result_grid(images, probs, [sample.truth() for sample in chosen_samples], threshold=threshold,
                       titles=[sample.name for sample in chosen_samples], notes=[note for _, note in rows])


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
