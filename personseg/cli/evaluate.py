"""`personseg evaluate`: pooled IoU/Dice/precision/recall and a threshold sweep; for photos with
person boxes (`--data` with a `boxes/` folder) the box metrics of `personseg.evaluation.box_metrics`."""

from __future__ import annotations

import argparse

from personseg.cli.options import (
    GROUND_TRUTH_PATHS,
    MODEL_PATHS,
    NOT_A_PATH,
    WRITE,
    add_ground_truth_arguments,
    add_model_arguments,
    load_ground_truth,
    load_segmenter,
)
from personseg.disk import check_writable_file
from personseg.errors import OptionError, UserError

PATHS = {**MODEL_PATHS, **GROUND_TRUTH_PATHS, "thresholds": NOT_A_PATH, "csv": WRITE}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    add_ground_truth_arguments(p)
    p.add_argument("--threshold", type=float, default=0.5, help="headline threshold (default 0.5)")
    p.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7", help="threshold sweep")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--csv", metavar="PER_IMAGE.csv", help="write one row per image")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of a table")


def run(args: argparse.Namespace) -> int:
    from personseg.data.box_set import is_box_root
    from personseg.evaluation.evaluate import evaluate, parse_thresholds

    thresholds = parse_thresholds(args.thresholds)
    if not 0.0 <= args.threshold <= 1.0:
        raise OptionError("threshold", args.threshold, "must be between 0 and 1")
    if args.batch_size < 1:
        raise OptionError("batch_size", args.batch_size, "must be at least 1")
    if args.csv:
        check_writable_file(args.csv)  # found now, not after the whole evaluation
    if args.data and is_box_root(args.data):
        return _box_metrics(args)
    samples = load_ground_truth(args)
    seg = load_segmenter(args)
    result = evaluate(seg, samples, thresholds, threshold=args.threshold, batch_size=args.batch_size)
    if args.csv:
        result.write_csv(args.csv)
    print(result.to_json() if args.json else result.table())
    return 0


def _box_metrics(args: argparse.Namespace) -> int:
    """Boxes found (by person size) and pixels marked outside every box, at --threshold."""
    import json

    from personseg.data.box_set import find_box_samples
    from personseg.evaluation.box_metrics import score_boxes

    if args.csv:
        raise UserError(f"{args.data}: --csv writes per-image mask metrics; photos with person boxes "
                        "have box metrics only (use --json)")
    samples = find_box_samples(args.data, args.split or "val")[: args.limit]
    summary = score_boxes(load_segmenter(args), samples, args.batch_size, args.threshold).summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['images']} photos, {summary['boxes']} person boxes ({args.data}:{args.split or 'val'})")
    print(f"boxes found (>= 20% marked): {summary['found']:.3f}")
    for name, share in summary["found_by_size"].items():
        if share is not None:
            print(f"  person {name} of the photo: {share:.3f} of {summary['boxes_by_size'][name]}")
    print(f"pixels marked outside every box: {summary['outside_marked']:.2%}")
    return 0
