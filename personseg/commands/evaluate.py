"""`personseg evaluate`: pooled IoU/Dice/precision/recall and a threshold sweep."""

from __future__ import annotations

import argparse

from personseg.commands._common import add_model_arguments, load_segmenter


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """Ground-truth source options, shared with `personseg grid`."""
    g = p.add_argument_group("ground truth (one of)")
    g.add_argument("--annotations", metavar="ANN.json", help="COCO instances JSON (with --images)")
    g.add_argument("--images", metavar="DIR", help="folder holding the COCO file_names")
    g.add_argument("--data", metavar="ROOT", help="prepared dataset root (images/<split>, masks/<split>)")
    g.add_argument("--split", default=None, help="split of --data (default: val if present, else flat)")
    p.add_argument("--limit", type=int, help="only the first N images (sorted by file name)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    add_data_arguments(p)
    p.add_argument("--threshold", type=float, default=0.5, help="headline threshold (default 0.5)")
    p.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7", help="threshold sweep")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--csv", metavar="PER_IMAGE.csv", help="write one row per image")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of a table")


def load_samples(args: argparse.Namespace):
    """Samples from --annotations/--images or --data/--split, cut to --limit."""
    from pathlib import Path

    from personseg.errors import UserError
    from personseg.evaluate import coco_samples, prepared_samples

    if bool(args.annotations) != bool(args.images):
        raise UserError("--annotations and --images go together")
    if args.annotations and args.data:
        raise UserError("give either --annotations/--images or --data, not both")
    if args.annotations:
        samples = coco_samples(args.annotations, args.images)
    elif args.data:
        split = args.split
        if split is None and (Path(args.data) / "images" / "val").is_dir():
            split = "val"
        samples = prepared_samples(args.data, split)
    else:
        raise UserError("give --annotations ANN.json --images DIR, or --data ROOT [--split S]")
    if args.limit is not None:
        if args.limit < 1:
            raise UserError(f"--limit must be at least 1, got {args.limit}")
        samples = samples[: args.limit]
    return samples


def run(args: argparse.Namespace) -> int:
    from personseg.errors import UserError
    from personseg.evaluate import evaluate, parse_thresholds

    thresholds = parse_thresholds(args.thresholds)
    if not 0.0 <= args.threshold <= 1.0:
        raise UserError(f"--threshold must be between 0 and 1, got {args.threshold}")
    samples = load_samples(args)
    seg = load_segmenter(args)
    result = evaluate(seg, samples, thresholds, threshold=args.threshold, batch_size=args.batch_size)
    if args.csv:
        result.write_csv(args.csv)
    print(result.to_json() if args.json else result.table())
    return 0
