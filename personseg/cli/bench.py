"""`personseg bench`: latency / throughput / end-to-end speed per model, size and backend."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from personseg.cli.options import NOT_A_PATH, READ, READ_ROOT, WRITE, WRITE_FOLDER

PATHS = {"weights": READ, "backends": NOT_A_PATH, "calibration": READ_ROOT, "e2e": READ,
         "peers": NOT_A_PATH, "peers_dir": READ, "out": WRITE, "markdown": WRITE,
         "workdir": WRITE_FOLDER, "record_command": NOT_A_PATH}
DEFAULT_WEIGHTS = ("weights.h5", "weights/shallow.h5")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from personseg.backends.peers import ENV_DIR, PEERS, RELATIVE_DIR
    from personseg.backends.refs import KERAS_KINDS, expected
    from personseg.bench.settings import DEFAULT_VARIANTS, VARIANTS

    # Settings left at None take bench.Settings' defaults (or Settings.quick's with --quick).
    parser.add_argument("--weights", action="append", default=[], metavar="[NAME=]FILE|pretrained:NAME",
                        help=f"model to benchmark: {expected(KERAS_KINDS)}; repeatable "
                             "(default: weights.h5 and weights/shallow.h5)")
    parser.add_argument("--sizes", type=int, nargs="+", metavar="N",
                        help="fixed input sizes to rebuild/export each model at (default: 256 512)")
    parser.add_argument("--backends",
                        help=f"comma-separated from: {', '.join(VARIANTS)} (default: "
                             f"{','.join(DEFAULT_VARIANTS)}; int8 needs --calibration)")
    parser.add_argument("--runs", type=int, help="timed batch-1 runs (default: 50)")
    parser.add_argument("--warmup", type=int, help="untimed runs first (default: 10)")
    parser.add_argument("--batch", type=int, help="throughput batch size (default: 32)")
    parser.add_argument("--batch-runs", type=int, help="timed throughput batches (default: 3)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime / LiteRT threads (default: physical cores)")
    parser.add_argument("--calibration", action="append", default=[], metavar="ROOT[:SPLIT]",
                        help="photos for int8 exports (see personseg export)")
    parser.add_argument("--calibration-count", type=int, metavar="N",
                        help="calibration photos per int8 export (default: 100)")
    parser.add_argument("--e2e", action="append", default=[], metavar="FOLDER",
                        help="photos for the end-to-end predict measurement (default: bundled samples)")
    parser.add_argument("--e2e-images", type=int, metavar="N",
                        help="photos per end-to-end run; 0 skips it (default: 64)")
    parser.add_argument("--peers", metavar="NAME,...|none",
                        help="published models to time alongside, each at its own input size "
                             f"(from: {', '.join(PEERS)}; default: every one whose file is found)")
    parser.add_argument("--peers-dir", metavar="DIR",
                        help=f"folder holding the peer files (default: ${ENV_DIR}, else {RELATIVE_DIR} "
                             "from here)")
    parser.add_argument("--fetch-mediapipe", action="store_true",
                        help="first download mediapipe's wheel with pip and extract its .tflite to the cache "
                             "(where the mediapipe-selfie peer is found too)")
    parser.add_argument("--quick", action="store_true", help="64 px, few runs: a smoke test in seconds")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--markdown", help="write the results table as Markdown here")
    parser.add_argument("--workdir", help="keep exported models here (default: a temporary folder)")
    parser.add_argument("--record-command", help=argparse.SUPPRESS)


def parse_models(specs: list[str]) -> dict[str, Path]:
    """--weights [NAME=]FILE|pretrained:NAME → name → Keras model file."""
    from personseg.backends.peers import PEERS
    from personseg.backends.refs import KERAS_KINDS, parse_ref
    from personseg.errors import UserError

    if not specs:
        found = [p for p in DEFAULT_WEIGHTS if Path(p).is_file()]
        if not found:
            raise UserError(f"no --weights given and none of {', '.join(DEFAULT_WEIGHTS)} exists")
        specs = found
    models = {}
    for spec in specs:
        name, sep, model = spec.partition("=")
        ref = parse_ref(model if sep else spec, "weights", KERAS_KINDS)
        if not sep:
            name = Path(spec).name if ref.kind == "file" else str(ref)
        if name in models:
            raise UserError(f"--weights {spec}: model name {name!r} given twice (use NAME=PATH)")
        if name in PEERS:
            raise UserError(f"--weights {spec}: {name!r} is a peer's name; give the model another "
                            "(NAME=PATH), peers are timed with --peers")
        models[name] = ref.keras_file()
    return models


def parse_peers(value: str | None) -> tuple[str, ...] | None:
    """--peers: None (not given: every peer found), () for `none`, else the names in order."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    return () if names == ["none"] else tuple(names)


def settings_from(args: argparse.Namespace):
    from personseg.bench.settings import Settings

    given = {
        "sizes": args.sizes,
        "variants": [v.strip() for v in args.backends.split(",") if v.strip()] if args.backends else None,
        "runs": args.runs, "warmup": args.warmup, "batch": args.batch, "batch_runs": args.batch_runs,
        "threads": args.threads, "calibration": tuple(args.calibration) or None,
        "calibration_count": args.calibration_count, "e2e_inputs": tuple(args.e2e) or None,
        "e2e_images": args.e2e_images, "peers": parse_peers(args.peers), "peers_dir": args.peers_dir,
    }
    given = {k: v for k, v in given.items() if v is not None}
    return Settings.quick(**given) if args.quick else Settings(**given)


def run(args: argparse.Namespace) -> int:
    from personseg.extras import require_tensorflow

    require_tensorflow("personseg bench")  # every variant is exported from the Keras model first
    from personseg.backends import mediapipe
    from personseg.bench.report import markdown, write_report
    from personseg.bench.run import run_bench
    from personseg.disk import check_writable_file, check_writable_folder

    if args.fetch_mediapipe:
        print(f"MediaPipe selfie model: {mediapipe.fetch_model()}")
    settings = settings_from(args)
    for path in (args.out, args.markdown):  # found now, not after the whole benchmark
        if path:
            check_writable_file(path)
    if args.workdir:
        check_writable_folder(args.workdir)
    command = args.record_command or "personseg " + shlex.join(sys.argv[1:])
    report = run_bench(parse_models(args.weights), settings,
                             Path(args.workdir) if args.workdir else None, command=command)
    write_report(report, Path(args.out) if args.out else None,
                       Path(args.markdown) if args.markdown else None)
    print(markdown(report))
    return 0
