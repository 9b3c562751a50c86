"""Folder throughput and memory of `personseg predict`: images/s, and resident memory over the
run for a small and a large folder (flat memory: the large run's peak is no higher).

The folder holds real photos: the held-out person-mask photos from ../shared/data when present
(else the package's sample photos), copied over and over until it has N files. Each run is the
real command in a subprocess (packaged model on ONNX Runtime, `--save mask,overlay`); its
memory (VmRSS) is sampled every 0.25 s. Then the same command again: everything is skipped
(resume). The machine's load average is recorded with each run: images/s on a 2-core machine
shared with training runs is a lower bound.

    python benchmarks/bench_folder.py                      # JSON to stdout
    python benchmarks/bench_folder.py --out benchmarks/results/folder.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from personseg.data.dataset_layout import held_out
from personseg.files import write_image, write_text
from personseg.inference.sample_photos import sample_images

REPO = Path(__file__).resolve().parents[1]
PERSON_MASKS = Path(os.environ.get("PERSONSEG_SHARED", REPO.parent / "shared")) / "data" / "person-masks"


def sources(scratch: Path) -> list[Path]:
    photos = sorted(p for name in ("ccp", "humanseg", "pennfudan")
                    for p in (PERSON_MASKS / name / "images").glob("*.jpg") if held_out(p.stem, 5))
    if photos:
        return photos
    for name, photo in sample_images().items():
        write_image(scratch / f"{name}.jpg", photo)
    return sorted(scratch.glob("*.jpg"))


def fill(folder: Path, photos: list[Path], count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        source = photos[i % len(photos)]
        shutil.copyfile(source, folder / f"{i:06d}{source.suffix}")


def run(folder: Path, out: Path, extra: list[str]) -> dict:
    command = [sys.executable, "-m", "personseg", "predict", str(folder), "--out", str(out),
               "--save", "mask,overlay", *extra]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    samples = []
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            if match:
                samples.append((round(time.perf_counter() - started, 2), int(match.group(1)) // 1024))
        except OSError:
            pass
        time.sleep(0.25)
    summary = process.stdout.read().strip().splitlines()[-1]
    if process.returncode != 0:
        raise SystemExit(f"predict failed ({process.returncode}): {summary}")
    rate = re.search(r"\(([\d.]+) images/s\)", summary)
    tail = [mb for t, mb in samples if t > samples[-1][0] / 2] if samples else []
    return {"summary": summary, "images_per_s": float(rate.group(1)) if rate else None,
            "wall_seconds": round(time.perf_counter() - started, 1),
            "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "peak_rss_mb": max((mb for _, mb in samples), default=None),
            "second_half_rss_mb": [min(tail), max(tail)] if tail else None,
            "rss_mb_timeline": samples[:: max(1, len(samples) // 20)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="250,2000", help="folder sizes to run")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-folder-") as tmp:
        tmp = Path(tmp)
        photos = sources(tmp)
        for count in (int(c) for c in args.counts.split(",")):
            folder, out = tmp / f"in{count}", tmp / f"out{count}"
            fill(folder, photos, count)
            first = run(folder, out, [])
            resume = run(folder, out, [])
            results.append({"images": count, "run": first, "rerun (resume)": {
                "summary": resume["summary"], "wall_seconds": resume["wall_seconds"]}})
            print(json.dumps(results[-1]["run"]["summary"]), flush=True)
            shutil.rmtree(folder)
            shutil.rmtree(out)
    result = {"benchmark": "predict_folder", "model": "pretrained (default, ONNX Runtime)",
              "outputs": "mask,overlay", "options": "defaults: --batch-size 8 --workers 2",
              "photos": f"{len(photos)} distinct real photos, repeated", "machine": platform.machine(),
              "cpus": os.cpu_count(), "results": results}
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
