"""`personseg curves RUN_DIR`: loss / IoU / Dice curves from a run's log.csv."""

from __future__ import annotations

import argparse
from pathlib import Path

from personseg.cli.options import DERIVED, WRITE

PATHS = {"run_dir": DERIVED, "out": WRITE}


def derived_paths(args: argparse.Namespace):
    """Reads RUN_DIR/log.csv (not the whole folder: the figure goes beside it by default)."""
    run_dir = Path(args.run_dir)
    return [("RUN_DIR", run_dir / "log.csv")], [("--out", Path(args.out or run_dir / "curves.png"))], []


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="training run folder (holds log.csv)")
    p.add_argument("--out", help="figure file (default: RUN_DIR/curves.png)")


def run(args: argparse.Namespace) -> int:
    from personseg.errors import UserError
    from personseg.training.curves import plot_curves

    run_dir = Path(args.run_dir)
    log = run_dir / "log.csv"
    if not log.is_file():
        raise UserError(f"{run_dir}: no log.csv (not a training run folder, or no epoch finished yet)")
    out = Path(args.out) if args.out else run_dir / "curves.png"
    try:
        plot_curves(log, out)
    except (ValueError, KeyError) as exc:
        raise UserError(f"{log}: cannot plot ({exc})") from exc
    print(f"wrote {out}")
    return 0
