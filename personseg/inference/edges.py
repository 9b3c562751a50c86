"""Alpha mattes from person probabilities: how the edge between person and background looks.

Three edge styles, used by the cut-out, background blur and background replacement alike:

- `sharp`: the thresholded mask, alpha 0 or 1 (jagged on hair and curved outlines);
- `soft`: the probability map ramped around the threshold, so the outline blends over the few
  pixels where the model is unsure instead of stepping; alpha is 0.5 exactly where the
  probability equals the threshold, so thresholding the soft alpha at 0.5 gives the sharp mask;
- `refined`: the probabilities first snapped to the photo's own edges with a guided filter (He
  et al.; OpenCV contrib's `cv2.ximgproc.guidedFilter`, the photo as guide), then ramped like
  `soft`: the outline follows contrast edges finer than the model's input resolution.
  `benchmarks/bench_edges.py` measures it against sharp and soft (`benchmarks/results/edges.json`).

`probability_image` turns probabilities into the 16-bit PNG that `--save probs` writes.
"""

from __future__ import annotations

import cv2
import numpy as np

from personseg.errors import OptionError
from personseg.inference import bounded

EDGES = ("sharp", "soft", "refined")
SOFT_BAND = 0.1  # the soft ramp: alpha goes 0 → 1 as probability goes threshold ∓ this
# guided filter: window radius as a fraction of the photo's longer side, and regularisation (guide
# in 0..1; smaller follows weaker photo edges). Tuned on the person-mask sets' held-out pairs.
GUIDE_RADIUS = 0.006
GUIDE_EPS = 0.01


def check_edges(edges: str) -> str:
    if edges not in EDGES:
        raise OptionError("edges", edges, f"choose one of {'|'.join(EDGES)}")
    return edges


def soft_alpha(prob: np.ndarray, threshold: float = 0.5, band: float = SOFT_BAND) -> np.ndarray:
    """float32 H×W alpha in [0, 1]: a linear ramp of the probability over threshold ∓ band."""
    low, high = threshold - band, threshold + band
    alpha = (np.asarray(prob, np.float32) - low) / (high - low)
    return np.clip(alpha, 0.0, 1.0, out=alpha)


def guided_filter(rgb: np.ndarray, prob: np.ndarray, radius: int | None = None,
                  eps: float = GUIDE_EPS) -> np.ndarray:
    """`prob` (float H×W in [0, 1]) smoothed along the photo's structure: float32, in [0, 1].

    Where the photo has a strong edge inside the window the output takes that edge's shape;
    where the window is all person or all background it stays as it was. `radius` defaults to
    0.6 % of the photo's longer side (at least 2 pixels)."""
    if radius is None:
        radius = max(2, round(GUIDE_RADIUS * max(prob.shape[:2])))
    guide = np.asarray(rgb, np.float32) / 255.0
    out = cv2.ximgproc.guidedFilter(guide, np.asarray(prob, np.float32), radius, eps)
    return np.clip(out, 0.0, 1.0)


def alpha_matte(rgb: np.ndarray, prob: np.ndarray, threshold: float = 0.5,
                edges: str = "refined") -> np.ndarray:
    """float32 H×W alpha in [0, 1] for the photo `rgb` from its probabilities (or a bool mask,
    read as probabilities 0 and 1), in one of the edge styles `EDGES`."""
    check_edges(edges)
    prob = np.asarray(prob)
    if prob.dtype == bool:
        prob = prob.astype(np.float32)
    if prob.shape != rgb.shape[:2]:
        raise ValueError(f"probabilities of shape {prob.shape} for an image of shape {rgb.shape}")
    if edges == "sharp":
        return (prob >= threshold).astype(np.float32)
    if edges == "refined":
        scale = bounded.guide_scale(prob.shape)
        if scale < 1:  # a big photo: filter at a bounded working resolution, upsample the alpha
            small = bounded.scaled_shape(prob.shape, scale)
            refined = guided_filter(bounded.resize(rgb, small), bounded.resize(prob, small))
            return bounded.resize(soft_alpha(refined, threshold), prob.shape[:2])
        prob = guided_filter(rgb, prob)
    return soft_alpha(prob, threshold)


def alpha_image(alpha: np.ndarray) -> np.ndarray:
    """float alpha in [0, 1] (or a bool mask) → uint8 0..255 (what `_alpha.png` files store)."""
    return np.rint(np.clip(np.asarray(alpha, np.float32), 0, 1) * 255).astype(np.uint8)


def probability_image(prob: np.ndarray) -> np.ndarray:
    """float probabilities in [0, 1] → uint16 H×W 0..65535 (`_probs.png`: divide by 65535)."""
    return np.rint(np.clip(np.asarray(prob, np.float32), 0, 1) * 65535).astype(np.uint16)
