"""`personseg prepare-folder`: check an image folder + mask folder and write the prepared layout."""

from __future__ import annotations

import argparse

from personseg.cli.options import NOT_A_PATH, PREPARED_OUTPUT_PATHS, READ, add_prepared_output_arguments

PATHS = {"images": READ, "masks": READ, **PREPARED_OUTPUT_PATHS, "holdout_split": NOT_A_PATH}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", required=True, metavar="DIR", help="folder of photos")
    p.add_argument("--masks", required=True, metavar="DIR",
                   help="folder of masks with the same file stems (0/255 or 0/1, single channel)")
    add_prepared_output_arguments(p)
    p.add_argument("--holdout", type=int, metavar="K",
                   help="hold out 1 in K pairs (chosen by the SHA-1 of the file stem) into --holdout-split")
    p.add_argument("--holdout-split", default="test", help="split of the held-out pairs (default: test)")


def run(args: argparse.Namespace) -> int:
    from personseg.data.prepare_folder import prepare_folder

    reports = prepare_folder(args.images, args.masks, args.out, args.split, max_side=args.max_side,
                             workers=args.workers, limit=args.limit, holdout=args.holdout,
                             holdout_split=args.holdout_split)
    return max(report.exit_code for report in reports)
