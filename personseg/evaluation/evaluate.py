"""Score a model against ground-truth person masks (`samples`), at every image's original resolution.

Images are read as stored (EXIF rotation ignored), the frame annotations and masks describe;
prepare, training and grids read them the same way, only `predict` on photos applies EXIF.

The model runs once per image; each threshold of the sweep is then applied to the same
probabilities. Headline numbers are pooled (pixel counts summed over the whole set, then one
ratio, see `personseg.evaluation.metrics`); mean per-image IoU is given beside them, over the
images that contain people, because it weighs a small person as much as a large one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from personseg.errors import OptionError, UserError
from personseg.evaluation.metrics import Confusion
from personseg.evaluation.paired import interval, mask_counts
from personseg.evaluation.samples import Sample
from personseg.files import read_rgb, write_text
from personseg.progress import progress_bar

DEFAULT_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass
class ImageScore:
    """One image's confusion counts at each threshold of the sweep."""

    name: str
    height: int
    width: int
    truth_pixels: int
    counts: list[Confusion]

    @property
    def has_person(self) -> bool:
        return self.truth_pixels > 0


def score_image(name: str, prob: np.ndarray, truth: np.ndarray, thresholds: list[float]) -> ImageScore:
    """Confusion counts of `prob ≥ t` against `truth` for every t (shapes must match)."""
    truth = np.asarray(truth, bool)
    if prob.shape != truth.shape:
        raise UserError(f"{name}: prediction {prob.shape} and ground truth {truth.shape} differ in size")
    counts = [Confusion.of(prob >= t, truth) for t in thresholds]
    return ImageScore(name, truth.shape[0], truth.shape[1], int(np.count_nonzero(truth)), counts)


@dataclass
class Evaluation:
    """Per-image counts at every threshold, and the summaries computed from them."""

    thresholds: list[float]
    threshold: float  # the headline threshold (also in `thresholds`)
    images: list[ImageScore] = field(default_factory=list)

    def metrics(self, threshold: float | None = None) -> dict:
        """Pooled and mean-per-image metrics at one threshold of the sweep."""
        t = self.threshold if threshold is None else threshold
        k = self.thresholds.index(t)
        pooled, empty = Confusion(), Confusion()
        for image in self.images:
            pooled += image.counts[k]
            if not image.has_person:
                empty += image.counts[k]
        with_people = [image.counts[k].iou for image in self.images if image.has_person]
        n_empty = sum(not image.has_person for image in self.images)
        return {
            "threshold": t,
            "iou": pooled.iou,
            "mean_image_iou": float(np.mean(with_people)) if with_people else None,
            "dice": pooled.dice,
            "accuracy": pooled.accuracy,
            "precision": pooled.precision,
            "recall": pooled.recall,
            "empty_fp_rate": empty.positive_rate if n_empty else None,
        }

    def iou_interval(self, level: float = 0.9, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
        """Bootstrap interval of the pooled IoU at the headline threshold: images resampled with
        replacement, the pooled IoU of each resample, and the central `level` of them."""
        return interval(mask_counts(self), "iou", level, resamples, seed)

    def sweep(self) -> list[dict]:
        return [self.metrics(t) for t in self.thresholds]

    def best_threshold(self) -> float:
        """Threshold with the highest pooled IoU (the lower one on ties)."""
        return max(self.sweep(), key=lambda m: (m["iou"], -m["threshold"]))["threshold"]

    def summary(self) -> dict:
        """Everything `personseg evaluate --json` prints."""
        n_people = sum(image.has_person for image in self.images)
        return {
            "images": len(self.images),
            "images_with_people": n_people,
            "images_without_people": len(self.images) - n_people,
            **self.metrics(),
            "best_threshold": self.best_threshold(),
            "sweep": self.sweep(),
        }

    def write_csv(self, path: str | Path) -> None:
        """One row per image: size, truth pixels, counts and metrics at the headline threshold,
        and IoU at every threshold of the sweep."""
        k = self.thresholds.index(self.threshold)
        header = ["image", "width", "height", "has_person", "truth_pixels", "tp", "fp", "fn", "tn",
                  "iou", "dice", "precision", "recall", "accuracy", "positive_rate"]
        header += [f"iou@{t:g}" for t in self.thresholds]
        rows = [header]
        for image in self.images:
            c = image.counts[k]
            rows.append(
                [image.name, image.width, image.height, int(image.has_person), image.truth_pixels,
                 c.tp, c.fp, c.fn, c.tn]
                + [f"{v:.6f}" for v in (c.iou, c.dice, c.precision, c.recall, c.accuracy, c.positive_rate)]
                + [f"{counts.iou:.6f}" for counts in image.counts]
            )
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        write_text(path, buffer.getvalue())

    def table(self) -> str:
        """Readable report: headline metrics, then the threshold sweep."""
        s = self.summary()
        fmt = _fmt
        lines = [
            f"images: {s['images']} ({s['images_with_people']} with people, "
            f"{s['images_without_people']} without)",
            f"threshold {s['threshold']:g}:",
            f"  IoU (pooled)              {fmt(s['iou'])}",
            f"  mean per-image IoU        {fmt(s['mean_image_iou'])}   (images with people)",
            f"  Dice (pooled)             {fmt(s['dice'])}",
            f"  pixel accuracy            {fmt(s['accuracy'])}",
            f"  precision                 {fmt(s['precision'])}",
            f"  recall                    {fmt(s['recall'])}",
            f"  false-positive pixel rate {fmt(s['empty_fp_rate'])}   (images without people)",
            "",
            "threshold   IoU     mean IoU  Dice    precision recall  empty FP",
        ]
        for m in s["sweep"]:
            mark = "  <- best IoU" if m["threshold"] == s["best_threshold"] else ""
            lines.append(
                f"{m['threshold']:<11g} {fmt(m['iou'])}  {fmt(m['mean_image_iou'])}    {fmt(m['dice'])}  "
                f"{fmt(m['precision'])}    {fmt(m['recall'])}  {fmt(m['empty_fp_rate'])}{mark}"
            )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.summary(), indent=2)


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:.4f}"


def parse_thresholds(text: str) -> list[float]:
    """`0.3,0.5` → [0.3, 0.5]; each must lie in [0, 1]."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise OptionError("thresholds", text, "expected comma-separated numbers") from None
    if not values or any(not 0.0 <= v <= 1.0 for v in values):
        raise OptionError("thresholds", text, "expected numbers between 0 and 1")
    return values


def iter_probabilities(seg, samples: list[Sample], batch_size: int) -> Iterator[tuple[Sample, np.ndarray]]:
    """(sample, probabilities) in order, reading one batch of images at a time.

    Images are read as stored, ignoring an EXIF rotation: annotations and masks describe the
    stored pixels (as prepare and training read them), so the prediction must too."""
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        images = [read_rgb(sample.image, orientation=False) for sample in chunk]
        yield from zip(chunk, seg.predict_batch(images, batch_size=batch_size), strict=True)


def evaluate(seg, samples: list[Sample], thresholds: list[float] = DEFAULT_THRESHOLDS,
             threshold: float = 0.5, batch_size: int = 8, progress: bool = True) -> Evaluation:
    """Run `seg` once over `samples` and count pixels at every threshold (headline included)."""
    if not 0.0 <= threshold <= 1.0:
        raise OptionError("threshold", threshold, "must be between 0 and 1")
    if not samples:
        raise UserError("nothing to evaluate: no images")
    missing = [str(s.image) for s in samples if not s.image.is_file()]
    if missing:
        raise UserError(f"{missing[0]}: image file not found ({len(missing)} missing in total)")
    thresholds = sorted(set(thresholds) | {threshold})
    result = Evaluation(thresholds, threshold)
    pairs = iter_probabilities(seg, samples, batch_size)
    for sample, prob in progress_bar(pairs, total=len(samples), desc="evaluate", unit="img",
                                     disable=not progress):
        result.images.append(score_image(sample.name, prob, sample.truth(), thresholds))
    return result
