"""Synthetic prepared datasets for fast tests: a bright ellipse ("person") on textured noise."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def make_root(root: Path, n: int = 8, size: tuple[int, int] = (48, 64), split: str | None = "train",
              seed: int = 0, negatives: int = 1) -> Path:
    """Write `n` image/mask pairs (the last `negatives` without a person) in the prepared layout."""
    rng = np.random.default_rng(seed)
    image_dir = root / "images" / split if split else root / "images"
    mask_dir = root / "masks" / split if split else root / "masks"
    image_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    h, w = size
    for i in range(n):
        image = rng.integers(0, 90, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), np.uint8)
        if i < n - negatives:
            center = (int(rng.integers(w // 4, 3 * w // 4)), int(rng.integers(h // 4, 3 * h // 4)))
            axes = (int(rng.integers(w // 8, w // 4)), int(rng.integers(h // 6, h // 3)))
            cv2.ellipse(mask, center, axes, 0, 0, 360, 255, -1)
            image[mask > 0] = rng.integers(170, 255, 3, dtype=np.uint8)
        cv2.imwrite(str(image_dir / f"img{i:03d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(mask_dir / f"img{i:03d}.png"), mask)
    return root
