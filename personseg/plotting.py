"""Figures: training curves from a run folder (and result grids, see `result_grid`)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: never touches the user's backend or state


def read_log(path: str | Path) -> dict[str, list[float]]:
    """Columns of a Keras CSVLogger file as float lists."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {key: [float(r[key]) for r in rows if r.get(key) not in (None, "")] for key in rows[0]}


def plot_curves(log_csv: str | Path, out_png: str | Path) -> Path:
    """Loss, IoU and Dice curves (train vs validation) from a run's `log.csv`."""
    log = read_log(log_csv)
    if not log:
        raise ValueError(f"{log_csv}: empty training log")
    epochs = [int(e) + 1 for e in log["epoch"]]
    panels = [("loss", "loss"), ("iou", "IoU @0.5 (pooled)"), ("dice", "Dice @0.5 (pooled)")]
    fig = Figure(figsize=(4.2 * len(panels), 3.4))
    axes = fig.subplots(1, len(panels))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + key in log:
                ax.plot(epochs[: len(log[prefix + key])], log[prefix + key], label=label)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    out_png = Path(out_png)
    fig.savefig(out_png, dpi=110)
    return out_png


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
    from personseg.metrics import Confusion

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


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write a figure atomically (png/jpg/pdf by extension)."""
    from personseg.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path
