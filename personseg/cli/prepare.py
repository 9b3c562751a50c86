"""`personseg prepare`: COCO instances JSON + images → person masks in the prepared layout."""

from __future__ import annotations

import argparse

from personseg.cli.options import NOT_A_PATH, PREPARED_OUTPUT_PATHS, READ, add_prepared_output_arguments

PATHS = {"annotations": READ, "images": READ, **PREPARED_OUTPUT_PATHS, "negatives": NOT_A_PATH}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--annotations", required=True, metavar="ANN.json", help="COCO instances JSON")
    p.add_argument("--images", required=True, metavar="DIR", help="folder holding the JSON's file_names")
    add_prepared_output_arguments(p)
    p.add_argument("--crowd", choices=["include", "ignore"], default="include",
                   help="iscrowd regions count as person (include, default) or are left out (ignore)")
    p.add_argument("--min-area", type=float, default=0, metavar="PIXELS",
                   help="drop person instances whose COCO area is smaller (default: 0, keep all)")
    p.add_argument("--negatives", default="all", metavar="all|none|N",
                   help="images without any person to keep: all (default), none, or the first N")


def run(args: argparse.Namespace) -> int:
    from personseg.data.prepare_coco import prepare

    report = prepare(args.annotations, args.images, args.out, args.split, crowd=args.crowd,
                     min_area=args.min_area, negatives=args.negatives, max_side=args.max_side,
                     workers=args.workers, limit=args.limit)
    return report.exit_code
