"""Result grids — input | probability | mask @threshold (against the ground truth, in colour), one
row per image, each row labelled with why it is there, the file and its IoU; crowds and the
worst cases cropped to their people. `personseg grid` and the notebooks draw
them with these functions; `grid_rows` chooses the rows (first N, worst K, or a teaching mix)."""

from __future__ import annotations

import cv2
import numpy as np
from matplotlib.figure import Figure  # no pyplot: never touches the user's backend or state

from personseg.errors import UserError
from personseg.evaluation.evaluate import iter_probabilities
from personseg.evaluation.grid_rows import MIX_ROWS, choose_mix, choose_worst, scan
from personseg.evaluation.metrics import Confusion
from personseg.evaluation.samples import Sample
from personseg.files import read_rgb

# Sized for a notebook: `personseg.display.show` draws at 80 dpi, where 12 in is 960 px (no
# scaling down in a notebook's output area of ~1,000 px) and 12 pt is 13.3 px, i.e. 10 pt in a
# browser. Three panels a row (input | probability | mask against the truth, in colour) leave each
# ~280 px wide; each row is as tall as its own photo's shape asks (portraits ~370 px).
WIDTH_IN = 12.0
TITLE_PT = 13
LABEL_PT = 12
_LABEL_IN, _COLORBAR_IN, _TITLES_IN = 0.75, 0.8, 0.7  # room for row labels, colour bar, column titles
ASPECT_RANGE = (0.75, 1.8)  # a row's width/height: thinner photos are drawn narrower, wider ones lower
# mask against ground truth: correct person, marked but not person, person missed (background black)
FOUND, FALSE_POSITIVE, MISSED = (255, 255, 255), (235, 60, 60), (40, 150, 255)
ERRORS_TITLE = "white: found,\nred: wrong, blue: missed"
CROP_ROLES = ("crowd", "worst")  # rows drawn cropped to their people (and the model's marks)


def error_map(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """RGB picture of a mask against the ground truth: FOUND, FALSE_POSITIVE, MISSED on black."""
    out = np.zeros((*pred.shape, 3), np.uint8)
    out[pred & truth], out[pred & ~truth], out[~pred & truth] = FOUND, FALSE_POSITIVE, MISSED
    return out


def _box(marked: np.ndarray, margin: float, min_side: float) -> tuple[slice, slice] | None:
    """The box around `marked`, grown by `margin`, at least `min_side` of the image each way (so
    low-resolution photos are not blown up into blocks), its shape
    within ASPECT_RANGE; None when that is most of the image anyway."""
    height, width = marked.shape
    rows, cols = np.flatnonzero(marked.any(axis=1)), np.flatnonzero(marked.any(axis=0))
    box_h = max(rows[-1] + 1 - rows[0], min_side * height) * (1 + 2 * margin)
    box_w = max(cols[-1] + 1 - cols[0], min_side * width) * (1 + 2 * margin)
    box_w = max(box_w, ASPECT_RANGE[0] * box_h)
    box_h = max(box_h, box_w / ASPECT_RANGE[1])
    box_h, box_w = min(round(box_h), height), min(round(box_w), width)
    if box_h * box_w > 0.6 * height * width:
        return None
    centre_y, centre_x = (rows[0] + rows[-1] + 1) / 2, (cols[0] + cols[-1] + 1) / 2
    top = int(np.clip(round(centre_y - box_h / 2), 0, height - box_h))
    left = int(np.clip(round(centre_x - box_w / 2), 0, width - box_w))
    return slice(top, top + box_h), slice(left, left + box_w)


def people_box(marked: np.ndarray, margin: float = 0.15, min_side: float = 0.3) -> tuple[slice, slice] | None:
    """The part of an image worth showing when its people are small (`_box`): around everything
    `marked` (truth or prediction); when that is most of the image (people at both ends), the
    box around the largest group of them (marks closer than 3 % of the image joined). None when
    even that is most of the image."""
    if not marked.any():
        return None
    box = _box(marked, margin, min_side)
    if box is not None:
        return box
    reach = max(1, round(0.03 * max(marked.shape)))
    joined = cv2.dilate(marked.astype(np.uint8), np.ones((reach, reach), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if count <= 2:  # one group: it is the whole picture
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return _box(marked & (labels == largest), margin, min_side)


def result_grid(
    images: list[np.ndarray],
    probs: list[np.ndarray],
    truths: list[np.ndarray] | None = None,
    threshold: float = 0.5,
    titles: list[str] | None = None,
    notes: list[str] | None = None,
    width: float = WIDTH_IN,
    crops: list[tuple[slice, slice] | None] | None = None,
) -> Figure:
    """One row per image: input | probability (with a colour bar) | mask @threshold — drawn
    against the ground truth when given (white found, red wrong, blue missed).

    Each row is labelled with its note (why it was chosen), its title (the file) and, with
    ground truth, its IoU — or, for an image with nobody in it, the share of pixels marked as
    person — always of the whole image, also where `crops` (a box per row, or None) shows a part.
    Returns a pyplot-free Figure: save it with `fig.savefig`, or show it in a notebook.
    """
    crops = crops or [None] * len(images)
    if len(images) != len(probs) or (truths is not None and len(truths) != len(images)):
        raise ValueError("images, probs and truths must have the same length")
    if not images:
        raise ValueError("result_grid needs at least one image")
    mask_title = f"mask @{threshold:g}"
    columns = ["input", "probability", mask_title if truths is None else f"{mask_title}: {ERRORS_TITLE}"]
    shown = [image[box] if box else image for image, box in zip(images, crops, strict=True)]
    aspects = [float(np.clip(image.shape[1] / image.shape[0], *ASPECT_RANGE)) for image in shown]
    panel = (width - _LABEL_IN - _COLORBAR_IN) / len(columns)
    fig = Figure(figsize=(width, sum(panel / a for a in aspects) + _TITLES_IN), layout="constrained")
    axes = fig.subplots(len(images), len(columns), squeeze=False,
                        gridspec_kw={"height_ratios": [1 / a for a in aspects]})
    binary = {"cmap": "gray", "vmin": 0, "vmax": 1}  # fixed range: an all-person mask is white
    for row, (image, prob) in enumerate(zip(images, probs, strict=True)):
        pred = prob >= threshold
        lines = [notes[row]] if notes and notes[row] else []
        lines.append(titles[row] if titles else f"#{row}")
        mask_panel = (pred, binary)
        if truths is not None:
            truth = np.asarray(truths[row], bool)
            mask_panel = (error_map(pred, truth), {})
            counts = Confusion.of(pred, truth)
            share = f"{counts.positive_rate:.1%} marked person"
            lines.append(f"IoU {counts.iou:.3f}" if truth.any() else share)
        panels = [(image, {}), (prob, {"cmap": "magma", "vmin": 0, "vmax": 1}), mask_panel]
        box = crops[row] or (slice(None), slice(None))
        for col, (ax, (picture, style)) in enumerate(zip(axes[row], panels, strict=True)):
            ax.imshow(picture[box], interpolation="antialiased", **style)
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
    truths = [np.asarray(sample.truth(), bool) for sample in chosen_samples]
    notes = [note for _, note in rows]
    crops = [people_box(truth | (prob >= threshold)) if note.endswith(CROP_ROLES) else None
             for truth, prob, note in zip(truths, probs, notes, strict=True)]  # crowds, failures up close
    notes = [f"{note} (cropped)" if box else note for note, box in zip(notes, crops, strict=True)]
    return result_grid(images, probs, truths, threshold=threshold,
                       titles=[sample.name for sample in chosen_samples], notes=notes, crops=crops)


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
