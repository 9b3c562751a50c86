"""`personseg predict`: segment images, folders, glob patterns and videos."""

from __future__ import annotations

import argparse
from pathlib import Path

from personseg.cli.options import (
    LOOK_PATHS,
    MODEL_PATHS,
    NOT_A_PATH,
    READ,
    WRITE_FOLDER,
    add_look_arguments,
    add_model_arguments,
    load_segmenter,
)
from personseg.errors import UserError

PATHS = {"inputs": READ, **MODEL_PATHS, **LOOK_PATHS, "out": WRITE_FOLDER, "save": NOT_A_PATH,
         "address": NOT_A_PATH}  # --address: a Ray cluster


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image files, folders (searched recursively for images), glob patterns "
                        "(quote them, e.g. 'photos/**/*.jpg'), video files")
    add_model_arguments(p)
    p.add_argument("-o", "--out", metavar="DIR", help="output folder (created; required)")
    from personseg.inference.render import KINDS

    p.add_argument("--save", default="mask,overlay",
                   help=f"comma-separated outputs: {','.join(KINDS)} (default: mask,overlay); alpha: "
                        "8-bit alpha PNG, probs: 16-bit PNG (probability × 65535)")
    p.add_argument("--threshold", type=float, default=0.5, help="person if probability ≥ this")
    add_look_arguments(p)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--overwrite", action="store_true",
                   help="redo inputs whose outputs exist (default: skip them, so a rerun resumes)")
    p.add_argument("--workers", type=int, default=2,
                   help="threads decoding photos ahead of the model (default 2)")
    p.add_argument("--smooth", type=float, default=0.0, metavar="S",
                   help="videos: temporal smoothing of the probabilities, 0 (off, default) to <1; "
                        "e.g. 0.6 steadies flickering masks (motion-aware: moving parts stay sharp)")
    p.add_argument("--save-frames", action="store_true",
                   help="videos: also write every frame's mask as <name>_frames/NNNNNN_mask.png")
    add_engine_arguments(p)


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    from personseg.inference.engines import ENGINES

    g = p.add_argument_group("engine (where the photos run; videos always run here)")
    g.add_argument("--engine", choices=list(ENGINES), default="local",
                   help="; ".join(f"{name}: {engine.about}" for name, engine in ENGINES.items())
                        + " (default local)")
    g.add_argument("--address", metavar="auto|ray://HOST:PORT",
                   help="ray: join this running cluster (default: start Ray inside this process)")
    g.add_argument("--num-workers", type=int, metavar="N",
                   help="ray: workers, one model each (default: one per CPU of the cluster)")


def _file_to_file_hint(inputs: list[str]) -> str:
    """`predict in.jpg out.png` is how rembg is called: point at the command that does that."""
    from personseg.files import is_image_file

    if len(inputs) == 2 and is_image_file(inputs[1]) and not Path(inputs[1]).exists():
        return f"; for one picture in a file: personseg cutout {inputs[0]} {inputs[1]}"
    return ""


def run(args: argparse.Namespace) -> int:
    import sys

    from personseg.inference.engines import engine_backend, engine_runner
    from personseg.inference.outputs import parse_kinds
    from personseg.inference.predict import run_predict
    from personseg.inference.render import Look
    from personseg.inference.temporal import TemporalSmoother

    if args.out is None:
        raise UserError(f"--out: give the output folder (--out DIR){_file_to_file_hint(args.inputs)}")
    kinds = parse_kinds(args.save)
    Look(args.threshold, args.edges, args.background, args.blur_strength)  # checked before the model loads
    TemporalSmoother(args.smooth)
    engine_runner(args.engine)  # a missing extra is said before the model loads
    args.backend = engine_backend(args.engine, args.weights, args.backend)
    options = {"address": args.address, "num_workers": args.num_workers} if args.engine == "ray" else {}
    if args.engine != "ray" and (args.address or args.num_workers):
        raise UserError("--address and --num-workers go with --engine ray")
    seg = load_segmenter(args)
    report = run_predict(seg, args.inputs, args.out, kinds, threshold=args.threshold,
                         batch_size=args.batch_size, save_frames=args.save_frames, edges=args.edges,
                         background=args.background, blur_strength=args.blur_strength,
                         smooth=args.smooth, overwrite=args.overwrite, workers=args.workers,
                         engine=args.engine, engine_options=options)
    print(report.summary())
    if report.failures:
        print(f"{len(report.failures)} input(s) failed:", file=sys.stderr)
        for failure in report.failures:
            print(f"  {failure}", file=sys.stderr)
    return 1 if report.failures else 0
