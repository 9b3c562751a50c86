"""Throughput of `personseg prepare` on coco-person-mini minitrain (281 images) with 1 and 2 workers.

Each measured run writes into a fresh output folder (nothing to resume), after one warm-up run
(page cache, imports, pool start-up code paths). Reported per worker count: the median of the
repeats, end to end (JSON load and planning included) and for the image jobs alone.

    python benchmarks/bench_prepare.py                      # JSON to stdout
    python benchmarks/bench_prepare.py --out benchmarks/results/prepare.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from personseg.data.prepare_coco import prepare
from personseg.files import print_json

REPO = Path(__file__).resolve().parents[1]
COCO_MINI = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "data" / "coco-person-mini"


def timed_run(annotations: Path, images: Path, workers: int) -> tuple[float, float, int]:
    """(wall seconds, job seconds, images written) of one run into a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as out:
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            start = time.perf_counter()
            report = prepare(annotations, images, out, "train", workers=workers)
            wall = time.perf_counter() - start
    if report.skipped or report.reused:
        raise SystemExit(f"benchmark run was not clean: {report.text()}")
    return wall, report.seconds, report.written


def measure(annotations: Path, images: Path, workers: int, repeats: int) -> dict:
    timed_run(annotations, images, workers)  # warm-up
    runs = [timed_run(annotations, images, workers) for _ in range(repeats)]
    n = runs[0][2]
    wall = statistics.median(r[0] for r in runs)
    jobs = statistics.median(r[1] for r in runs)
    return {
        "workers": workers, "images": n,
        "images_per_s": round(n / wall, 1), "jobs_images_per_s": round(n / jobs, 1),
        "wall_seconds": [round(r[0], 3) for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=Path,
                        default=COCO_MINI / "annotations" / "instances_minitrain.json")
    parser.add_argument("--images", type=Path, default=COCO_MINI / "images")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    if not args.annotations.is_file():
        sys.exit(f"{args.annotations}: not found (coco-person-mini lives in ../shared/data)")
    report = {
        "benchmark": "prepare_images_per_s", "data": str(args.annotations.name),
        "machine": platform.machine(), "cpus": os.cpu_count(), "repeats": args.repeats,
        "results": [measure(args.annotations, args.images, w, args.repeats) for w in args.workers],
    }
    print_json(report, args.out)


if __name__ == "__main__":
    main()
