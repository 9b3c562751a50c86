"""`personseg prepare`: COCO instances JSON + images → person masks in the prepared layout."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--annotations", required=True, metavar="ANN.json", help="COCO instances JSON")
    p.add_argument("--images", required=True, metavar="DIR", help="folder holding the JSON's file_names")
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output root: images/<split>/*.jpg, masks/<split>/*.png, manifest_<split>.csv")
    p.add_argument("--split", default="train", help="split folder name (default: train)")
    p.add_argument("--crowd", choices=["include", "ignore"], default="include",
                   help="iscrowd regions count as person (include, default) or are left out (ignore)")
    p.add_argument("--min-area", type=float, default=0, metavar="PIXELS",
                   help="drop person instances whose COCO area is smaller (default: 0, keep all)")
    p.add_argument("--negatives", default="all", metavar="all|none|N",
                   help="images without any person to keep: all (default), none, or the first N")
    p.add_argument("--max-side", type=int, metavar="PIXELS",
                   help="downscale images (and masks, nearest neighbour) whose longer side is larger")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N images (sorted by file name)")


def run(args: argparse.Namespace) -> int:
    from personseg.data.prepare_coco import prepare

    report = prepare(args.annotations, args.images, args.out, args.split, crowd=args.crowd,
                     min_area=args.min_area, negatives=args.negatives, max_side=args.max_side,
                     workers=args.workers, limit=args.limit)
    return report.exit_code
