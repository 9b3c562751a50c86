"""The `personseg` command line: one sub-command per module in `personseg.cli`.

Commands parse flags and call the library; library errors that name a parameter are shown
worded for its flag (`OptionError.flag_message`). Every error a user can cause ends as one
`error: <file>: <problem>` line and exit 2, never a traceback: an OSError that no check foresaw
too (set PERSONSEG_TRACEBACK=1 to see its traceback), and TensorFlow missing where a path needs it
(`personseg.extras`: the line names `pip install 'personseg[train]'`).

Each command module defines `add_arguments(parser)` and `run(args) -> int`; heavy imports
(TensorFlow) happen inside `run`, so `personseg --help` stays fast.

TensorFlow's start-up logging (oneDNN, CUDA, cuInit lines) is silenced here, once, before any
command runs (`personseg.quiet`); `personseg --verbose COMMAND` shows it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from personseg.errors import OptionError, UserError

# name -> (module under personseg.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "download": ("download", "download COCO 2017 annotations and only the photos you need"),
    "prepare": ("prepare", "COCO instances JSON + images -> person masks (images/<split>, masks/<split>)"),
    "prepare-folder": ("prepare_folder", "validate an image/mask folder pair and write the same layout"),
    "train": ("train", "train a shallow encoder-decoder or a U-Net"),
    "evaluate": ("evaluate", "score a model against COCO annotations or prepared masks"),
    "predict": ("predict", "segment images, folders, globs and videos"),
    "cutout": ("cutout", "one photo to one picture, file to file (- for stdin/stdout); default: the cut-out"),
    "grid": ("grid", "input | prediction | threshold | ground-truth result grids"),
    "curves": ("curves", "plot training curves from a run folder"),
    "export": ("export", "export a model to ONNX, TFLite or SavedModel"),
    "bench": ("bench", "inference latency/throughput benchmark per backend"),
    "serve": ("serve", "a local web page (drop a photo, get its cut-out) and POST /v1/segment"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personseg", description="Person segmentation toolkit (Keras/TensorFlow)."
    )
    from personseg import __version__

    parser.add_argument("--version", action="version", version=f"personseg {__version__}")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's own log lines (hidden by default)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(f"personseg.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"personseg.cli.{module_name}":
                raise
            continue  # command not built yet
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run, _module=module, _parser=command_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.verbose:
        from personseg.quiet import quiet

        quiet()
    try:
        from personseg.cli.guard import check_command

        check_command(args._module, args._parser, args)  # inputs are never written
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OptionError as exc:
        print(f"error: {exc.flag_message()}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # a path no check foresaw reached TensorFlow without it
        from personseg.extras import explain_missing

        missing = explain_missing(exc, f"personseg {args.command}")
        if missing is None:
            raise
        print(f"error: {missing}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk or the system refused something no check foresaw
        if os.environ.get("PERSONSEG_TRACEBACK"):
            raise
        from personseg.disk import write_error

        where = exc.filename or "personseg"
        error = write_error(where, exc)
        print(f"error: {error or f'{where}: {exc.strerror or exc}'}", file=sys.stderr)
        return 2
