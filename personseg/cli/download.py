"""`personseg download coco`: the COCO 2017 annotations and only the photos a run needs."""

from __future__ import annotations

import argparse

from personseg.cli.options import NOT_A_PATH, READ, WRITE_FOLDER
from personseg.data.download import ANNOTATIONS_ENV, ANNOTATIONS_URL, IMAGES_ENV, IMAGES_URL, SPLITS

PATHS = {"out": WRITE_FOLDER, "annotations": READ, "images_url": NOT_A_PATH}


def derived_paths(args: argparse.Namespace):
    """The files it writes under --out: the split's JSON, extracted and restricted."""
    from personseg.data.coco_archive import written_annotations

    return [], [("--out", path) for path in written_annotations(args.out, args.split, args.annotations)], []


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", choices=["coco"], help="the data set to download (coco: COCO 2017)")
    p.add_argument("--split", choices=SPLITS, required=True, help="COCO split")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="writes DIR/images/<split>/ and DIR/annotations/instances_<split>.json "
                        "(rerun to resume; photos already there are kept)")
    p.add_argument("--person-only", action="store_true",
                   help="only photos with at least one person annotation (default: every photo)")
    p.add_argument("--max-images", type=int, metavar="N",
                   help="only the first N selected photos (by file name)")
    p.add_argument("--workers", type=int, default=8, help="parallel downloads (default: 8)")
    p.add_argument("--retries", type=int, default=3,
                   help="further attempts for a photo that fails (default: 3)")
    p.add_argument("--backoff", type=float, default=1.0, metavar="SECONDS",
                   help="wait before the first retry, doubled for each further one (default: 1)")
    p.add_argument("--annotations", metavar="URL|PATH",
                   help=f"annotation archive URL, or a local copy (.zip, or the split's .json) "
                        f"(default: ${ANNOTATIONS_ENV}, else {ANNOTATIONS_URL})")
    p.add_argument("--images-url", metavar="URL",
                   help=f"base URL the photos are fetched from, replacing the host of each coco_url "
                        f"(default: ${IMAGES_ENV}, else {IMAGES_URL})")


def run(args: argparse.Namespace) -> int:
    from personseg.data.download import download_coco

    report = download_coco(args.out, args.split, person_only=args.person_only, max_images=args.max_images,
                           workers=args.workers, annotations=args.annotations,
                           images_url=args.images_url, retries=args.retries,
                           backoff=args.backoff)
    return report.exit_code
