"""Time from process start to the first mask: the light path (ONNX Runtime, no TensorFlow) against
Keras → benchmarks/results/first_mask.json.

What a user waits for when they segment one photo: a fresh Python process imports personseg,
loads the packaged U-Net and writes one mask, through the API and through `personseg predict`.
Each variant runs once untimed (page cache), then `--repeats` times interleaved (A, B, A, B, …,
so a noisy shared machine hurts both alike); reported: the median and range of wall seconds,
the child's peak RSS, and whether TensorFlow was imported.

    python benchmarks/bench_first_mask.py --out benchmarks/results/first_mask.json
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from personseg.files import print_json

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "assets" / "grace_hopper.jpg"
API = """
import resource, sys
from personseg import Segmenter
mask = Segmenter.pretrained(backend={backend!r}).mask({photo!r})
assert mask.any()
print(int("tensorflow" in sys.modules), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def variants(out: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "personseg", "predict", str(PHOTO), "--save", "mask", "--overwrite",
           "--weights", "pretrained:unet"]
    return {
        "api-onnx": [sys.executable, "-c", API.format(backend="onnx", photo=str(PHOTO))],
        "api-keras": [sys.executable, "-c", API.format(backend="keras", photo=str(PHOTO))],
        "cli-onnx": [*cli, "--out", str(out / "onnx"), "--backend", "onnx"],
        "cli-keras": [*cli, "--out", str(out / "keras"), "--backend", "keras"],
    }


def run(command: list[str]) -> tuple[float, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command[:4])}…: exit {done.returncode}\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-first-mask-") as tmp:
        commands = variants(Path(tmp))
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        facts: dict[str, dict] = {}
        for command in commands.values():  # untimed: page cache, .pyc files
            run(command)
        for _ in range(args.repeats):
            for name, command in commands.items():
                wall, stdout = run(command)
                seconds[name].append(wall)
                if name.startswith("api"):  # the largest peak over the repeats; TensorFlow in any of them
                    tf, rss_kb = map(int, stdout.split())
                    seen = facts.setdefault(name, {"imports_tensorflow": False, "peak_rss_mb": 0})
                    seen["imports_tensorflow"] |= bool(tf)
                    seen["peak_rss_mb"] = max(seen["peak_rss_mb"], round(rss_kb / 1024))
    results = [{"variant": name, "median_s": round(statistics.median(times), 2),
                "min_s": round(min(times), 2), "max_s": round(max(times), 2), **facts.get(name, {})}
               for name, times in seconds.items()]
    report = {"benchmark": "process_start_to_first_mask", "photo": PHOTO.name, "model": "pretrained:unet",
              "machine": platform.machine(), "cpus": os.cpu_count(), "repeats": args.repeats,
              "load_average_at_end": round(os.getloadavg()[0], 1), "results": results}
    print_json(report, args.out)


if __name__ == "__main__":
    main()
