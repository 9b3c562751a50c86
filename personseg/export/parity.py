"""Does an exported model still segment like the Keras model it came from? Measured on photos.

Both models see the same letterboxed image; we compare person probabilities only inside the
image area (the black letterbox padding would inflate the agreement) and report the largest
absolute difference and the share of pixels whose 0.5-threshold mask is the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from personseg.files import read_rgb
from personseg.inference.letterbox import Letterbox, letterbox_batch


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed max |Δp| (None: not bounded) and smallest allowed mask agreement."""

    max_abs: float | None
    agreement: float

    def describe(self) -> str:
        bound = f"max |Δp| ≤ {self.max_abs:g}, " if self.max_abs is not None else ""
        return f"{bound}mask agreement ≥ {self.agreement:.1%}"


# float: only summation order changes; fp16 weights: ~3 significant digits; int8: masks only.
TOLERANCES = {
    "none": Tolerance(1e-3, 0.999),
    "fp16": Tolerance(1e-2, 0.995),
    "int8": Tolerance(None, 0.98),
}


@dataclass(frozen=True)
class ParityRow:
    image: str
    size: int
    max_abs_diff: float
    agreement: float
    ok: bool

    def as_dict(self) -> dict:
        return asdict(self)


class CalibrationPhotos:
    """Photos letterboxed like inference, read on demand: `len()`, `[i]` → 1×size×size×3 float32."""

    def __init__(self, files: list[Path], size: int):
        self.files, self.size = list(files), size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> np.ndarray:
        return letterbox_batch([read_rgb(self.files[index])], self.size)[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def compare(reference: np.ndarray, candidate: np.ndarray, geo: Letterbox) -> tuple[float, float]:
    """(max |Δp|, mask agreement at 0.5) over the image area of two size×size probability maps."""
    window = (slice(geo.top, geo.top + geo.new_height), slice(geo.left, geo.left + geo.new_width))
    ref, cand = reference[window], candidate[window]
    if not np.all(np.isfinite(cand)):
        return float("inf"), 0.0
    return float(np.abs(ref - cand).max()), float(np.mean((ref > 0.5) == (cand > 0.5)))


def check(reference_predict, candidate_predict, images: dict[str, np.ndarray], size: int,
          tolerance: Tolerance) -> list[ParityRow]:
    """Run both predict functions (N×H×W×3 → N×H×W) on every image and score each image."""
    batch, geos = letterbox_batch(list(images.values()), size)
    ref = np.concatenate([reference_predict(batch[i : i + 1]) for i in range(len(batch))])
    cand = np.concatenate([candidate_predict(batch[i : i + 1]) for i in range(len(batch))])
    rows = []
    for name, r, c, geo in zip(images, ref, cand, geos, strict=True):
        max_abs, agreement = compare(r, c, geo)
        ok = agreement >= tolerance.agreement and (tolerance.max_abs is None or max_abs <= tolerance.max_abs)
        rows.append(ParityRow(name, size, max_abs, agreement, ok))
    return rows
