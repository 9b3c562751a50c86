"""Figures: training curves from a run folder (and result grids, see `result_grid`)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402


def read_log(path: str | Path) -> dict[str, list[float]]:
    """Columns of a Keras CSVLogger file as float lists."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {key: [float(r[key]) for r in rows if r.get(key) not in (None, "")] for key in rows[0]}


def plot_curves(log_csv: str | Path, out_png: str | Path) -> Path:
    """Loss, IoU and learning-rate curves (train vs validation) from a run's `log.csv`."""
    log = read_log(log_csv)
    if not log:
        raise ValueError(f"{log_csv}: empty training log")
    epochs = [int(e) + 1 for e in log["epoch"]]
    panels = [("loss", "loss"), ("iou", "IoU @0.5 (pooled)"), ("dice", "Dice @0.5 (pooled)")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
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
    plt.close(fig)
    return out_png
