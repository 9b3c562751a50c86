"""kill -9 around `personseg train` at random moments, `--resume` after each kill, and compare the
end with one uninterrupted `--deterministic` run: same weights and optimizer state (bit for bit),
same log (every epoch once; all but the timing column equal), same summary, no temporary files.

    python benchmarks/kill_resume_train.py --kills 20 --out benchmarks/results/kill_resume_train.json

Tiny synthetic data (tests/synthetic.py) and a tiny model keep each run to a few seconds. Kill
moments are drawn at random in three kinds: `startup` (uniform over the time before the first
epoch ends: imports, data checks, restoring, rewriting the log), `training` (uniform over the
third epoch of this run, timed by its second: steps, validation, checkpoint writes) and `at-write` (as
soon as the temporary file of one of an epoch's writes appears, i.e. in the middle of that write:
best model, log, curves, backup log, backup weights; a write too quick to catch within two epochs
gives way to any write, or to a random moment of the third epoch). Every run's output
is kept in the work folder for inspection.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from personseg.files import write_text  # noqa: E402
from tests.synthetic import make_root  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}  # this checkout's personseg
CLI = [sys.executable, "-c", "import sys; from personseg.cli import main; sys.exit(main())", "train"]
KINDS = {"startup": 0.3, "training": 0.5, "at-write": 0.2}
# temporary files an epoch writes, in order (at-write kills pick one and wait for it to appear)
WRITES = [".tmp.keras", ".tmp.csv", ".tmp.png", ".tmp.json", ".tmp.weights.h5"]
TIMING_COLUMNS = {"train_images_per_s"}  # wall-clock speed: the only column allowed to differ


def train_args(data: Path, out: Path, epochs: int, seed: int) -> list[str]:
    return [*CLI, "--data", f"{data}:train", "--val", f"{data}:val", "--out", str(out), "--model", "shallow",
            "--shallow-filters", "4,8", "--size", "32", "--batch-size", "4", "--epochs", str(epochs),
            "--steps-per-epoch", "2", "--lr", "1e-2", "--warmup-epochs", "0", "--seed", str(seed),
            "--deterministic"]


def newest(run: Path) -> int:
    """Epochs done by the newest commit in the run folder (0: none yet)."""
    found = (run / "backup").glob("epoch-*.weights.h5") if (run / "backup").is_dir() else []
    return max((int(p.name[6:-11]) for p in found), default=0)


def temporaries(run: Path) -> list[Path]:
    return [p for p in run.rglob(".*") if ".tmp" in p.name] if run.is_dir() else []


def straight_run(data: Path, run: Path, epochs: int, seed: int, logs: Path) -> dict:
    """The uninterrupted reference, timing when each epoch is committed."""
    started = time.perf_counter()
    with open(logs / "straight.log", "w") as log:
        proc = subprocess.Popen(train_args(data, run, epochs, seed), stdout=log, stderr=log, env=ENV)
        seen, times = 0, []
        while proc.poll() is None:
            n = newest(run)
            if n > seen:
                times += [time.perf_counter() - started] * (n - seen)
                seen = n
            time.sleep(0.005)
    if proc.returncode:
        raise SystemExit(f"the uninterrupted run failed; see {logs / 'straight.log'}")
    epoch = (times[-1] - times[0]) / max(1, len(times) - 1) if len(times) > 1 else 1.0
    return {"seconds": round(time.perf_counter() - started, 2), "first_commit_s": round(times[0], 2),
            "epoch_s": round(epoch, 3)}


def one_attempt(args: list[str], run: Path, kind: str | None, timing: dict, rng: random.Random,
                log_path: Path) -> dict:
    """Start (or resume) training; kill it as `kind` says (None: let it finish)."""
    before = newest(run)
    started = time.perf_counter()
    target = rng.choice(WRITES) if kind == "at-write" else None
    leftovers = {p.name for p in temporaries(run)}  # a killed run's, removed as this one starts
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=log, env=ENV)
        deadline, commit_times, caught = None, {}, None
        if kind == "startup":
            deadline = started + rng.uniform(0, timing["first_commit_s"])
        while proc.poll() is None:
            now = time.perf_counter()
            if kind in ("training", "at-write") and deadline is None:
                commit_times.setdefault(newest(run), now)
                if len(commit_times) == 3:  # two epochs of this run done: now one more, cut at random
                    first, second = sorted(commit_times.values())[1:]
                    deadline = now + rng.uniform(0, second - first)
                    if kind == "at-write":  # its file was too quick to catch: any write, or then
                        target = ".tmp"
            if target is not None:
                caught = next((p.name for p in temporaries(run)
                               if p.name.endswith(target) and p.name not in leftovers), None)
            if caught or (deadline is not None and now >= deadline):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.002)
    text = log_path.read_text(errors="replace")
    return {"kind": kind or "finish", "during_write_of": caught and caught[caught.index(".tmp"):],
            "killed": proc.returncode == -signal.SIGKILL,
            "returncode": proc.returncode, "seconds": round(time.perf_counter() - started, 2),
            "epochs_done_before": before, "epochs_done_after": newest(run),
            "temporaries_left": len(temporaries(run)),
            "said_fell_back": "fell back to the last good backup" in text,
            "said_log_rewritten": "rewritten to the" in text, "traceback": "Traceback" in text}


def h5_arrays(path: Path) -> dict[str, np.ndarray]:
    arrays = {}
    with h5py.File(path, "r") as f:
        def keep(name, obj):
            if isinstance(obj, h5py.Dataset):
                arrays[name] = obj[()]

        f.visititems(keep)
    return arrays


def compare(a: Path, b: Path) -> dict:
    """Where two finished run folders differ (everything but wall-clock time must be equal)."""
    found = {}
    for name in ("model.h5", f"backup/epoch-{newest(a):04d}.weights.h5"):
        x, y = h5_arrays(a / name), h5_arrays(b / name)
        found[f"{name} identical"] = x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)
    rows = [line.split(",") for line in (a / "log.csv").read_text().splitlines()]
    other = [line.split(",") for line in (b / "log.csv").read_text().splitlines()]
    keep = [i for i, column in enumerate(rows[0]) if column not in TIMING_COLUMNS]
    found["log.csv identical but timing"] = [[r[i] for i in keep] for r in rows] == [
        [r[i] for i in keep] for r in other]
    epochs = [str(i) for i in range(len(rows) - 1)]
    found["log.csv epochs once each, in order"] = [r[0] for r in rows[1:]] == epochs
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    found["summary identical"] = all(sa[k] == sb[k] for k in ("best_epoch", "best_val", "epochs_run"))
    found["no temporary files"] = not temporaries(a)
    return found


def kill_loop(work: Path, kills: int, epochs: int, seed: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    data = make_root(work / "data", n=8, split="train")
    make_root(work / "data", n=4, split="val", seed=1)
    timing = straight_run(data, work / "straight", epochs, seed, logs)
    run, rng, attempts = work / "killed", random.Random(seed), []
    while True:
        random_kills = sum(a["killed"] and a["kind"] != "at-write" for a in attempts)
        kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0] if random_kills < kills else None
        fresh = not (run / "config.json").exists()
        args = train_args(data, run, epochs, seed) if fresh else [*CLI, "--out", str(run), "--resume"]
        attempt = one_attempt(args, run, kind, timing, rng, logs / f"attempt{len(attempts):03d}.log")
        attempts.append(attempt)
        if not attempt["killed"]:
            if attempt["returncode"] == 0 and (run / "summary.json").is_file():
                break
            if fresh and not (run / "config.json").exists():
                continue  # killed before config.json existed: start afresh
            log = logs / f"attempt{len(attempts) - 1:03d}.log"
            raise SystemExit(f"run failed (exit {attempt['returncode']}); see {log}")
    checks = compare(run, work / "straight")
    killed = [a for a in attempts if a["killed"]]
    return {
        "benchmark": "kill -9 at random moments around personseg train, resumed each time",
        "command": f"python benchmarks/kill_resume_train.py --kills {kills} --epochs {epochs} --seed {seed}",
        "machine": platform.machine(), "python": platform.python_version(),
        "epochs": epochs, "uninterrupted": timing,
        "kills": len(killed), "random_kills": sum(a["kind"] != "at-write" for a in killed),
        "kills_by_kind": {k: sum(a["kind"] == k for a in killed) for k in KINDS},
        "kills_during_a_write_by_file": {w: sum(a["during_write_of"] == w for a in killed) for w in WRITES},
        "kills_before_this_runs_first_commit": sum(a["epochs_done_after"] == a["epochs_done_before"]
                                                   for a in killed),
        "runs": len(attempts),
        "resumes_that_rewrote_the_log": sum(a["said_log_rewritten"] for a in attempts),
        "resumes_that_fell_back": sum(a["said_fell_back"] for a in attempts),
        "tracebacks": sum(a["traceback"] for a in attempts if not a["killed"]),
        "checks": checks,
        "ok": all(checks.values()) and sum(a["kind"] != "at-write" for a in killed) >= kills,
        "attempts": attempts,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="random kills at least (default 20)")
    parser.add_argument("--epochs", type=int, default=80, help="epochs of the tiny run (default 80)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default="out/kill_resume_train", help="runs and their logs")
    parser.add_argument("--out", help="write the result as JSON here")
    args = parser.parse_args(argv)
    result = kill_loop(Path(args.workdir), args.kills, args.epochs, args.seed)
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        write_text(args.out, text)  # atomic
    summary = {k: v for k, v in result.items() if k != "attempts"}
    print(json.dumps(summary, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
