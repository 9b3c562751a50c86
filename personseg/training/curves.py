"""Training curves: read a run's `log.csv` and draw loss / IoU / Dice per epoch, train vs validation."""

from __future__ import annotations

import csv
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: never touches the user's backend or state
from matplotlib.ticker import MaxNLocator


def read_log(path: str | Path) -> dict[str, list[float]]:
    """Columns of a Keras CSVLogger file as float lists."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    return {key: [float(r[key]) for r in rows if r.get(key) not in (None, "")] for key in rows[0]}


def curves_figure(log_csv: str | Path) -> Figure:
    """Loss, IoU and Dice per epoch (train vs validation) from a run's `log.csv`; whole epochs on
    the x axis, sized for a notebook (12 in wide)."""
    log = read_log(log_csv)
    if not log:
        raise ValueError(f"{log_csv}: empty training log")
    epochs = [int(e) + 1 for e in log["epoch"]]
    panels = [("loss", "loss"), ("iou", "IoU @0.5 (pooled)"), ("dice", "Dice @0.5 (pooled)")]
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + key in log:
                ax.plot(epochs[: len(log[prefix + key])], log[prefix + key], marker="o", label=label)
        ax.set_title(title, fontsize=13)
        ax.set_xlabel("epoch", fontsize=12)
        ax.set_xlim(0.5, max(epochs) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=11)
        ax.grid(alpha=0.3)
        if ax.get_lines():  # a log without this metric: an empty panel, no empty legend
            ax.legend(fontsize=11)
    return fig


def plot_curves(log_csv: str | Path, out_png: str | Path) -> Path:
    """Write `curves_figure(log_csv)` to `out_png`, atomically: never a half-drawn curves.png."""
    from personseg.files import save_figure  # OpenCV only when a figure is written

    return save_figure(curves_figure(log_csv), out_png, dpi=110)
