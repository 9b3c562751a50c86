"""Batch-1 latency of several models timed in turns, so a slow spell of the machine hits all of
them: the fair way to say "model A is 0.8× model B" on a shared or noisy machine.

    python benchmarks/bench_versus.py pretrained:fast peer:mediapipe-selfie \\
        [runs/x/model.onnx ...] [pretrained:fast@256x192 ...] \\
        [--rounds 60 --calls 25 --threads 2 --out F.json]

Every model is opened as `personseg predict --weights` opens it (`load_backend`, `auto`: a
packaged model's ONNX twin, a file by its extension, a peer with its own runtime) and gets the
same letterboxed sample photo at its own input size, or on an H×W canvas for `MODEL@HxW` (a
runtime that takes any size: what `--framing fit` feeds it). After a warm-up, each round times `calls`
batch-1 calls of every model in turn (25: steady-state latency, what a user running one model
sees), the starting model moving by one each round. Reported per model: the median and p90 of
all its calls, and against the first model the median of the per-round ratios of medians with the
5th–95th percentile of those ratios (how much a ratio moves from round to round). `--calls 1`
(turns call by call, every call after another model's) is not steady state: on 2026-12-05 it
slowed MediaPipe's LiteRT file more than our ONNX Runtime one (ratio 0.86 / 0.75 against 0.96 /
0.90 in 25-call blocks, benchmarks/results/versus-protocol.json).
`personseg bench` times one backend after another instead; use this one when two rows of that
table are to be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_spec(spec: str) -> tuple[str, tuple[int, int] | None]:
    """`MODEL` or `MODEL@HxW` → (model, canvas or None)."""
    match = re.fullmatch(r"(.+)@(\d+)x(\d+)", spec)
    if not match:
        return spec, None
    from personseg.errors import OptionError
    from personseg.limits import check_size

    try:
        return match[1], (check_size(int(match[2])), check_size(int(match[3])))
    except OptionError as exc:
        raise SystemExit(f"error: {spec}: the canvas is HxW, sides multiples of 32 ({exc})") from None


def time_in_turns(backends: dict, rounds: int, calls: int, warmup: int,
                  canvases: dict | None = None) -> dict[str, np.ndarray]:
    """rounds × calls batch-1 wall times in ms per model, the models taking turns each round;
    `canvases` gives a model another input shape than its own square."""
    from personseg.bench.measure import sample_batch

    canvases = canvases or {}
    inputs = {name: sample_batch(canvases.get(name) or int(b.input_size[0]), 1)
              for name, b in backends.items()}
    for name, backend in backends.items():
        for _ in range(warmup):
            backend.predict(inputs[name])
    names = list(backends)
    times = {name: np.zeros((rounds, calls)) for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            backend, x = backends[name], inputs[name]
            for c in range(calls):
                start = time.perf_counter()
                backend.predict(x)
                times[name][r, c] = (time.perf_counter() - start) * 1e3
    return times


def summarise(times: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per model: median / p90 ms of all calls; ratio of per-round medians to the first model's."""
    first = next(iter(times))
    reference = np.median(times[first], axis=1)
    rows = {}
    for name, ms in times.items():
        ratios = np.median(ms, axis=1) / reference
        rows[name] = {
            "median_ms": round(float(np.median(ms)), 3),
            "p90_ms": round(float(np.percentile(ms, 90)), 3),
            f"ratio_to_{first}": round(float(np.median(ratios)), 3),
            "ratio_p5_p95": [round(float(v), 3) for v in np.percentile(ratios, [5, 95])],
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+",
                        help="FILE | pretrained:NAME | peer:NAME (the first is the reference)")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--calls", type=int, default=25, help="timed calls per model per round (a turn)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per model first")
    parser.add_argument("--threads", type=int, help="ONNX Runtime / LiteRT threads (default: physical cores)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if min(args.rounds, args.calls) < 1 or args.warmup < 0:
        parser.error("--rounds and --calls must be at least 1, --warmup at least 0")
    if len(set(args.models)) != len(args.models):
        parser.error("each model once")

    from personseg.backends import load_backend
    from personseg.backends.runtime import physical_cores
    from personseg.bench.report import machine
    from personseg.files import write_text

    threads = args.threads or physical_cores()
    specs = {spec: parse_spec(spec) for spec in args.models}
    backends = {spec: load_backend(model, "auto", threads=threads) for spec, (model, _) in specs.items()}
    canvases = {spec: canvas for spec, (_, canvas) in specs.items() if canvas}
    for spec in canvases:
        if not getattr(backends[spec], "any_size", False):
            parser.error(f"{spec}: this model runs only at its own size")
    load_before = os.getloadavg()
    rows = summarise(time_in_turns(backends, args.rounds, args.calls, args.warmup, canvases))
    result = {
        "command": "python benchmarks/bench_versus.py " + " ".join(args.models),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"rounds": args.rounds, "calls": args.calls, "warmup": args.warmup, "threads": threads},
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "sizes": {spec: "x".join(map(str, canvases.get(spec) or b.input_size))
                  for spec, b in backends.items()},
        "results": rows,
    }
    first = args.models[0]
    print(f"| model | size | median ms | p90 ms | × {first} (p5–p95 of rounds) |\n|---|---|---|---|---|")
    for model, row in rows.items():
        low, high = row["ratio_p5_p95"]
        print(f"| {model} | {result['sizes'][model]} | {row['median_ms']:.2f} | {row['p90_ms']:.2f} | "
              f"{row[f'ratio_to_{first}']:.2f} ({low:.2f}–{high:.2f}) |")
    if args.out:
        write_text(args.out, json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
