"""Big photos: time and peak memory of `personseg predict --save KIND` at 12, 24 and 48 MP.

The photo is the bundled grace_hopper.jpg scaled up to each size (JPEG, quality 92, a little
noise so it compresses like a real photo). Each output runs as its own `personseg predict`
process with the packaged model (ONNX Runtime), so the numbers are what a user waits for:
wall time of the whole command (start-up, decode, model, rendering, encode, write) and the
process's peak resident memory (`ru_maxrss` of the child), with its CPU time (user + system)
and the machine's load average beside them (a shared machine slows the wall time, not the CPU
time). Target (issue 20): 48 MP in ≤ 10 s
and ≤ 2 GB for every output.

    python benchmarks/bench_big_photo.py                        # JSON to stdout
    python benchmarks/bench_big_photo.py --out benchmarks/results/big_photo.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SIZES = {12: (4000, 3000), 24: (5656, 4242), 40: (7300, 5475), 48: (8000, 6000)}


def make_photo(path: Path, width: int, height: int) -> None:
    base = cv2.imread(str(REPO / "assets" / "grace_hopper.jpg"))
    scale = max(width / base.shape[1], height / base.shape[0])
    big = cv2.resize(base, (round(base.shape[1] * scale), round(base.shape[0] * scale)),
                     interpolation=cv2.INTER_CUBIC)
    top, left = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    big = big[top:top + height, left:left + width]
    noise = np.random.default_rng(0).integers(-4, 5, big.shape, dtype=np.int16)
    big = np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, 92])


CHILD = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code.returncode, seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, repr(code.stderr[-300:]))
"""


def measure(photo: Path, out: Path, kind: str, edges: str) -> dict:
    """One `personseg predict` run in a fresh process: seconds and peak RSS (MB)."""
    command = [sys.executable, "-m", "personseg", "predict", str(photo), "--out", str(out),
               "--save", kind, "--edges", edges, "--overwrite"]
    result = subprocess.run([sys.executable, "-c", CHILD, *command], capture_output=True, text=True,
                            check=True)
    code, seconds, peak, cpu, stderr = result.stdout.split(" ", 4)
    if int(code) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {stderr}")
    return {"seconds": round(float(seconds), 2), "cpu_seconds": round(float(cpu), 2),
            "peak_rss_mb": round(int(peak) / 1024), "load_average": round(os.getloadavg()[0], 1)}


SERVE = """
import io, resource, sys, time
from personseg.inference.segmenter import Segmenter
from personseg.serve.app import create_app
app = create_app(Segmenter.pretrained())  # the defaults of `personseg serve`
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
response = app.test_client().post("/v1/segment", data={"image": (io.BytesIO(data), "big.jpg")})
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
print(response.status_code, seconds, usage.ru_maxrss, len(response.data), cpu)
"""


def measure_serve(photo: Path) -> dict:
    """`POST /v1/segment` (JSON answer: every picture) of `photo`, model loaded beforehand."""
    result = subprocess.run([sys.executable, "-c", SERVE, str(photo)], capture_output=True, text=True,
                            check=True)
    status, seconds, peak, size, cpu = result.stdout.split()
    return {"status": int(status), "seconds": round(float(seconds), 2), "cpu_seconds": round(float(cpu), 2),
            "peak_rss_mb": round(int(peak) / 1024), "answer_mb": round(int(size) / 1e6, 1),
            "load_average": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="12,24,48", help="megapixels (from 12, 24, 48)")
    parser.add_argument("--kinds", default="blur,cutout,replace")
    parser.add_argument("--edges", default="refined")
    parser.add_argument("--serve", action=argparse.BooleanOptionalAction, default=True,
                        help="also time serve's JSON answer to a 40 MP upload (default: yes)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows, serve = [], None
    with tempfile.TemporaryDirectory() as tmp:
        if args.serve:
            photo = Path(tmp) / "big40.jpg"
            make_photo(photo, *SIZES[40])
            serve = {"megapixels": 40, "width": SIZES[40][0], "height": SIZES[40][1],
                     **measure_serve(photo)}
            print(json.dumps(serve), file=sys.stderr, flush=True)
        for mp in (int(s) for s in args.sizes.split(",")):
            width, height = SIZES[mp]
            photo = Path(tmp) / f"big{mp}.jpg"
            make_photo(photo, width, height)
            for kind in args.kinds.split(","):
                row = {"megapixels": mp, "width": width, "height": height, "kind": kind,
                       "edges": args.edges, **measure(photo, Path(tmp) / "out", kind, args.edges)}
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
    report = {
        "command": "python benchmarks/bench_big_photo.py " + " ".join(sys.argv[1:]),
        "what": "wall time and peak RSS of one `personseg predict PHOTO --save KIND` process "
                "(packaged model, ONNX Runtime), the photo scaled up from grace_hopper.jpg",
        "target": "48 MP: <= 10 s and <= 2048 MB for every output; serve: a 40 MP upload "
                  "answered (JSON, every picture) in <= 15 s",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
        "rows": rows,
        "serve_40mp_json": serve,
        "meets_target": all(r["seconds"] <= 10 and r["peak_rss_mb"] <= 2048
                            for r in rows if r["megapixels"] == 48)
        and (serve is None or serve["seconds"] <= 15),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
