"""`personseg prepare-folder`: check an image folder + mask folder and write the prepared layout."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", required=True, metavar="DIR", help="folder of photos")
    p.add_argument("--masks", required=True, metavar="DIR",
                   help="folder of masks with the same file stems (0/255 or 0/1, single channel)")
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output root: images/<split>/*.jpg, masks/<split>/*.png, manifest_<split>.csv")
    p.add_argument("--split", default="train", help="split folder name (default: train)")
    p.add_argument("--max-side", type=int, metavar="PIXELS",
                   help="downscale images (and masks, nearest neighbour) whose longer side is larger")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N pairs (sorted by file name)")


def run(args: argparse.Namespace) -> int:
    from personseg.data.prepare_folder import prepare_folder

    report = prepare_folder(args.images, args.masks, args.out, args.split, max_side=args.max_side,
                            workers=args.workers, limit=args.limit)
    return report.exit_code
