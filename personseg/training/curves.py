"""Training curves: read a run's `log.csv` and draw loss / IoU / Dice per epoch, train vs validation."""

from __future__ import annotations

import csv
from pathlib import Path

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
    from personseg.files import save_figure  # OpenCV only when a figure is written

    return save_figure(fig, out_png, dpi=110)  # atomic: never a half-drawn curves.png
