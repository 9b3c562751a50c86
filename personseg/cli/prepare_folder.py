"""`personseg prepare-folder`: check an image folder + mask folder and write the prepared layout."""

from __future__ import annotations

import argparse

from personseg.cli.options import add_prepared_output_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--images", required=True, metavar="DIR", help="folder of photos")
    p.add_argument("--masks", required=True, metavar="DIR",
                   help="folder of masks with the same file stems (0/255 or 0/1, single channel)")
    add_prepared_output_arguments(p)


def run(args: argparse.Namespace) -> int:
    from personseg.data.prepare_folder import prepare_folder

    report = prepare_folder(args.images, args.masks, args.out, args.split, max_side=args.max_side,
                            workers=args.workers, limit=args.limit)
    return report.exit_code
