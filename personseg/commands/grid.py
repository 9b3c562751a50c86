"""`personseg grid`: input | prediction | mask | ground truth, one row per image."""

from __future__ import annotations

import argparse

from personseg.commands._common import add_model_arguments, load_segmenter
from personseg.commands.evaluate import add_data_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="images, folders or glob patterns (no ground truth column)")
    add_model_arguments(p)
    add_data_arguments(p)
    p.add_argument("--out", default="grid.png", help="figure file (png, jpg or pdf)")
    p.add_argument("--n", type=int, default=8, help="rows: the first N images (default 8)")
    p.add_argument("--worst", type=int, metavar="K",
                   help="instead, the K images with the lowest IoU (needs ground truth)")
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--batch-size", type=int, default=8)


def run(args: argparse.Namespace) -> int:
    from personseg.errors import UserError
    from personseg.grid import grid_from_images, grid_from_samples
    from personseg.plotting import save_figure

    has_truth = bool(args.annotations or args.data)
    if args.inputs and has_truth:
        raise UserError("give INPUT images or a ground-truth source (--data / --annotations), not both")
    if not args.inputs and not has_truth:
        raise UserError("give INPUT images, --data ROOT, or --annotations ANN.json --images DIR")
    if args.worst is not None and not has_truth:
        raise UserError("--worst needs ground truth (--data or --annotations/--images)")
    for name in ("n", "worst"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be at least 1, got {value}")
    if has_truth:
        from personseg.commands.evaluate import load_samples

        samples = load_samples(args)
    seg = load_segmenter(args)
    if has_truth:
        fig = grid_from_samples(seg, samples, n=args.n, worst=args.worst, threshold=args.threshold,
                                batch_size=args.batch_size)
    else:
        fig = grid_from_images(seg, args.inputs, n=args.n, threshold=args.threshold)
    print(f"wrote {save_figure(fig, args.out)}")
    return 0
