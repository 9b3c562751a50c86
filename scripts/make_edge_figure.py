"""Make the README's soft-edge vs hard-edge figure from a sample photo that ships with an
installed package (scikit-image's astronaut, else matplotlib's grace_hopper).

    .venv/bin/python scripts/make_edge_figure.py --out assets/edges.jpg

The packaged model segments the photo; the crop is the square on the head's outline where the
refined alpha differs most from the hard mask, enlarged with nearest-neighbour so the pixels show:
photo with the crop marked | sharp (0/1) | soft | refined (guided filter), cut-outs on a
checkerboard.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from make_figures import checkerboard, label


def pick_crop(sharp: np.ndarray, refined: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left corner of the size×size window on the head's outline (the top 40 % of the
    largest person region: hair) where the refined alpha differs most from the hard mask."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(sharp.astype(np.uint8))
    person = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    top, height = stats[labels[person][0], cv2.CC_STAT_TOP], stats[labels[person][0], cv2.CC_STAT_HEIGHT]
    edge = person & ~cv2.erode(person.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    edge[top + int(0.4 * height) :] = False
    difference = cv2.boxFilter(np.abs(refined - sharp), -1, (size, size), normalize=False)
    half = size // 2
    candidates = np.zeros_like(edge)
    candidates[half : sharp.shape[0] - half, half : sharp.shape[1] - half] = True
    scores = np.where(edge & candidates, difference, -1)
    y, x = np.unravel_index(np.argmax(scores), scores.shape)
    return int(y) - half, int(x) - half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="assets/edges.jpg")
    parser.add_argument("--crop", type=int, default=72, help="crop side in photo pixels")
    parser.add_argument("--zoom", type=int, default=5, help="enlargement of the crop")
    args = parser.parse_args()

    from personseg.files import write_image
    from personseg.inference.edges import alpha_matte
    from personseg.inference.render import cutout, flatten
    from personseg.inference.sample_photos import sample_images
    from personseg.inference.segmenter import Segmenter

    photos = sample_images()
    name = "astronaut" if "astronaut" in photos else "grace_hopper"
    photo = photos[name]
    probs = Segmenter.pretrained().predict(photo)
    alphas = {edges: alpha_matte(photo, probs, edges=edges) for edges in ("sharp", "soft", "refined")}
    top, left = pick_crop(alphas["sharp"], alphas["refined"], args.crop)
    side = args.crop * args.zoom
    tiles = []
    marked = photo.copy()
    cv2.rectangle(marked, (left, top), (left + args.crop, top + args.crop), (255, 40, 120), 3)
    tiles.append(label(cv2.resize(marked, (round(photo.shape[1] * side / photo.shape[0]), side),
                                  interpolation=cv2.INTER_AREA), name))
    board = checkerboard(side, side, square=16)
    for edges, alpha in alphas.items():
        crop = cutout(photo, alpha)[top : top + args.crop, left : left + args.crop]
        big = cv2.resize(crop, (side, side), interpolation=cv2.INTER_NEAREST)
        tiles.append(label(flatten(big, background=board), f"{edges} edges"))
    gap = np.full((side, 6, 3), 255, np.uint8)
    figure = np.hstack([part for tile in tiles for part in (tile, gap)][:-1])
    write_image(Path(args.out), figure, quality=90)
    print(f"wrote {args.out} (crop {args.crop} px at ({left}, {top}) of {name})")


if __name__ == "__main__":
    main()
