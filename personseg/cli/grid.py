"""`personseg grid`: input | probability | mask (against the ground truth), one row per image; with ground
truth the rows are a teaching mix by default (`--mix`), or the first N (`--n`) or the worst K
(`--worst`)."""

from __future__ import annotations

import argparse

from personseg.cli.options import (
    GROUND_TRUTH_PATHS,
    MODEL_PATHS,
    READ,
    WRITE,
    add_ground_truth_arguments,
    add_model_arguments,
    load_ground_truth,
    load_segmenter,
)

PATHS = {"inputs": READ, **MODEL_PATHS, **GROUND_TRUTH_PATHS, "out": WRITE}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="images, folders or glob patterns (no ground truth column)")
    add_model_arguments(p)
    add_ground_truth_arguments(p)
    p.add_argument("--out", default="grid.png", help="figure file (png, jpg or pdf)")
    rows = p.add_mutually_exclusive_group()
    rows.add_argument("--n", type=int, help="rows: the first N images (default 8 without ground truth)")
    rows.add_argument("--worst", type=int, metavar="K",
                      help="the K images with the lowest IoU (needs ground truth)")
    rows.add_argument("--mix", type=int, metavar="N",
                      help="N rows that teach: a large person, small people, a crowd, an image with "
                           "nobody, the worst by IoU (needs ground truth; the default with it, 6 rows)")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--batch-size", type=int, default=8)


def run(args: argparse.Namespace) -> int:
    import sys

    from personseg.disk import check_writable_file
    from personseg.errors import OptionError, UserError
    from personseg.evaluation.grid import grid_from_images, grid_from_samples
    from personseg.files import save_figure

    has_truth = bool(args.annotations or args.data)
    if args.inputs and has_truth:
        raise UserError("give INPUT images or a ground-truth source (--data / --annotations), not both")
    if not args.inputs and not has_truth:
        raise UserError("give INPUT images, --data ROOT, or --annotations ANN.json --images DIR")
    for name in ("worst", "mix"):
        if getattr(args, name) is not None and not has_truth:
            raise UserError(f"--{name} needs ground truth (--data or --annotations/--images)")
    for name in ("n", "worst", "mix", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise OptionError(name, value, "must be at least 1")
    if not 0.0 <= args.threshold <= 1.0:
        raise OptionError("threshold", args.threshold, "must be between 0 and 1")
    check_writable_file(args.out)  # found now, not after running the model
    samples = load_ground_truth(args) if has_truth else None
    seg = load_segmenter(args)
    failures: list[str] = []
    if has_truth:
        fig = grid_from_samples(seg, samples, n=args.n, worst=args.worst, mix=args.mix,
                                threshold=args.threshold, batch_size=args.batch_size)
    else:
        fig, failures = grid_from_images(seg, args.inputs, n=args.n or 8, threshold=args.threshold)
    print(f"wrote {save_figure(fig, args.out)}")
    if failures:
        print(f"{len(failures)} input(s) failed:", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
    return 1 if failures else 0
