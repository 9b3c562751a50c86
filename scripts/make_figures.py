"""Make the README demo figures from sample photos that ship with installed packages.

    .venv/bin/python scripts/make_figures.py --weights weights.h5 --out assets

Writes `demo_grace_hopper.jpg` (matplotlib's sample photo) and `demo_astronaut.jpg`
(scikit-image's `data.astronaut()`): input | overlay | cutout | background blur, side by side.
No other images may go into assets/ (the data sets' licences do not allow redistribution here).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def checkerboard(height: int, width: int, square: int = 12) -> np.ndarray:
    """Light grey checkerboard, the usual way to show transparency."""
    yy, xx = np.mgrid[:height, :width]
    light = ((yy // square + xx // square) % 2).astype(bool)
    board = np.full((height, width, 3), 205, np.uint8)
    board[light] = 240
    return board


def label(picture: np.ndarray, text: str) -> np.ndarray:
    out = picture.copy()
    scale = max(0.5, picture.shape[0] / 450)
    thickness = max(1, round(scale * 2))
    origin = (int(10 * scale), int(30 * scale))
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def panel(seg, photo: np.ndarray, height: int = 360, threshold: float = 0.5) -> np.ndarray:
    """input | overlay | cutout (on a checkerboard) | blur, scaled to `height` pixels."""
    from personseg.inference.render import blur_background, cutout, flatten, overlay

    mask = seg.mask(photo, threshold=threshold)
    board = checkerboard(*photo.shape[:2], square=max(8, photo.shape[0] // 40))
    on_board = flatten(cutout(photo, mask), background=board)
    views = [("input", photo), ("overlay", overlay(photo, mask)), ("cutout", on_board),
             ("background blur", blur_background(photo, mask))]
    width = round(photo.shape[1] * height / photo.shape[0])
    gap = np.full((height, 6, 3), 255, np.uint8)
    tiles = []
    for name, view in views:
        tiles += [label(cv2.resize(view, (width, height), interpolation=cv2.INTER_AREA), name), gap]
    return np.hstack(tiles[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weights", default="weights.h5")
    parser.add_argument("--out", default="assets")
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--size", type=int, help="input size for dynamic-input models (best.keras)")
    args = parser.parse_args()

    from personseg.files import write_image
    from personseg.inference.sample_photos import sample_images
    from personseg.inference.segmenter import Segmenter

    seg = Segmenter.from_weights(args.weights, **({"size": args.size} if args.size else {}))
    for name, photo in sample_images().items():
        path = Path(args.out) / f"demo_{name}.jpg"
        write_image(path, panel(seg, photo, args.height), quality=88)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
