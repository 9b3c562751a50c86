"""`personseg predict --engine ray` with 1 and 2 workers vs local `personseg predict` on the same
photos: images/s and peak memory per process.

Each run is the real command in a subprocess on a fresh `--out` (Ray started inside it, as a
user gets it). The three set-ups run interleaved, round after round, after one warm-up round
that is not counted (file cache, first imports); medians over the rounds are kept. Two rates per
run: over the whole command (`wall`, Ray's and the workers' start included) and `steady`, from
the first output file written to the last (the pipeline once running). Peak memory (VmHWM) of
the command's process and of every Ray worker holding the model (read from /proc while it runs).
The machine's load average is recorded with each run: on a 2-core machine shared with training
runs, absolute rates are lower bounds and 2 workers cannot show cluster scaling (docs/ray.md).
The work runs at niceness 15 (`NICE`), as everything heavy does on that shared machine: the
local command under `nice`, the Ray workers by `RAY_worker_niceness`; Ray's own processes keep
their priority, since Ray gives them ~15 s to start (a niced start fails on a loaded machine).

    python benchmarks/bench_ray.py --out benchmarks/results/ray.json
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_folder import fill, sources

from personseg.files import print_json

REPO = Path(__file__).resolve().parents[1]
SETUPS = {"local": [], "ray, 1 worker": ["--engine", "ray", "--num-workers", "1"],
          "ray, 2 workers": ["--engine", "ray", "--num-workers", "2"]}
NICE = 15


def _status(pid: int, field: str) -> int | None:
    try:
        match = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return None
    return int(match.group(1)) // 1024 if match else None


def _descendants(root: int) -> dict[int, bytes]:
    """pid -> command line of every process under `root`."""
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                commands[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = commands[child]
                frontier.append(child)
    return found


def run(folder: Path, out: Path, model: str, extra: list[str], tries: int = 4) -> dict:
    """One run; again (on a fresh --out) when Ray could not start on the busy machine."""
    for attempt in range(1, tries + 1):
        result = _run_once(folder, out, model, extra)
        if result is not None:
            return {**result, "attempt": attempt}
        shutil.rmtree(out, ignore_errors=True)
        print("  Ray did not start (a busy machine); again", file=sys.stderr, flush=True)
    raise SystemExit(f"Ray did not start in {tries} tries")


def _run_once(folder: Path, out: Path, model: str, extra: list[str]) -> dict | None:
    command = [sys.executable, "-m", "personseg", "predict", str(folder), "--out", str(out),
               "--weights", model, "--save", "mask,overlay", *extra]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH"))
                                                       if p)}
    if "ray" in extra:
        env["RAY_worker_niceness"] = str(NICE)
    else:
        command = ["nice", "-n", str(NICE), *command]
    load = os.getloadavg()[0]
    started = time.time()
    errors_file = tempfile.TemporaryFile(mode="w+")  # progress bars and notes; read when it ends
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors_file, text=True, env=env)
    peaks: dict[str, int] = {}
    while process.poll() is None:
        peaks["command"] = max(peaks.get("command", 0), _status(process.pid, "VmHWM") or 0)
        for pid, cmd in _descendants(process.pid).items():
            if b"PhotoWorker" in cmd:
                peaks[f"worker {pid}"] = max(peaks.get(f"worker {pid}", 0), _status(pid, "VmHWM") or 0)
        time.sleep(0.5)
    wall = time.time() - started
    output, _ = process.communicate()
    errors_file.seek(0)
    errors = errors_file.read()
    errors_file.close()
    if process.returncode == 2 and "ray: could not start" in errors:
        return None
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {errors[-2000:]}")
    summary = re.sub(r" -> \S+$", "", output.strip().splitlines()[-1])  # not this machine's paths
    written = sorted(p.stat().st_mtime for p in out.glob("*_overlay.jpg"))
    count = len(written)
    return {"summary": summary, "wall_images_per_s": round(count / wall, 2),
            "steady_images_per_s": round((count - 1) / (written[-1] - written[0]), 2),
            "wall_seconds": round(wall, 1), "peak_rss_mb": peaks,
            "load_average_1min": [round(load, 1), round(os.getloadavg()[0], 1)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds after the warm-up round")
    parser.add_argument("--model", default="pretrained:fast")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {name: [] for name in SETUPS}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        tmp = Path(tmp)
        photos = sources(tmp)
        fill(tmp / "in", photos, args.images)
        for round_ in range(args.rounds + 1):
            names = list(SETUPS)[round_ % len(SETUPS):] + list(SETUPS)[:round_ % len(SETUPS)]
            for name in names:  # a different set-up goes first each round
                result = run(tmp / "in", tmp / "out", args.model, SETUPS[name])
                shutil.rmtree(tmp / "out")
                print(f"round {round_}{' (warm-up)' if round_ == 0 else ''}, {name}: {result['summary']}; "
                      f"steady {result['steady_images_per_s']} images/s", file=sys.stderr, flush=True)
                if round_:
                    runs[name].append(result)
    medians = {}
    for name, results in runs.items():
        workers = [mb for r in results for key, mb in r["peak_rss_mb"].items() if key.startswith("worker")]
        medians[name] = {
            "wall_images_per_s": statistics.median(r["wall_images_per_s"] for r in results),
            "steady_images_per_s": statistics.median(r["steady_images_per_s"] for r in results),
            "wall_seconds": statistics.median(r["wall_seconds"] for r in results),
            "command_peak_rss_mb": statistics.median(r["peak_rss_mb"]["command"] for r in results),
            "worker_peak_rss_mb": max(workers) if workers else None}
    print_json({"benchmark": "predict --engine ray vs local", "model": f"{args.model} (ONNX Runtime)",
                "outputs": "mask,overlay", "images": args.images,
                "photos": f"{len(photos)} distinct real photos, repeated",
                "method": "each run a fresh `personseg predict` process; set-ups interleaved, one warm-up "
                          f"round then {args.rounds} counted, medians; steady = first to last output file; "
                          f"the work at niceness {NICE} (local: nice; ray: its workers), Ray's daemons not",
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, shared with a training run",
                "medians": medians, "runs": runs}, args.out)


if __name__ == "__main__":
    main()
