"""Crash-proof training state: what a run folder holds after every epoch, and resuming from it.

After epoch N (N epochs done) the callback writes, each file under a temporary name and renamed
when complete (`files.atomic_path`, flushed to disk):

    backup/best-NNNN.keras        the best model so far, when epoch N improved validation IoU
    log.csv, curves.png           the log of epochs 0..N-1
    backup/epoch-NNNN.json        that log, the best epoch so far and whether early stopping fired
    backup/epoch-NNNN.weights.h5  model + optimizer state: written last, it commits epoch N
    best.keras                    the committed best model (a copy of backup/best-*.keras)

A kill -9, Ctrl-C or full disk at any moment therefore leaves the last commit whole. Resuming
takes the newest commit whose files all load, says so when it has to fall back to an older one,
rewrites `log.csv` and `best.keras` to match it and removes what no commit refers to. The two
newest commits are kept. Runs of older versions (Keras' `backup/latest.weights.h5`) resume too.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import keras

from personseg.disk import check_space, remove_stale_temps
from personseg.files import atomic_path, write_text
from personseg.models.loading import saved_bytes
from personseg.training.curves import plot_curves, read_log

KEEP_COMMITS = 2
_COMMIT = re.compile(r"^epoch-(\d{4,})\.weights\.h5$")


@dataclass
class State:
    """A committed training state: epochs done, their log rows, the best epoch so far."""

    epoch: int = 0
    rows: list[dict] = field(default_factory=list)
    best: dict | None = None  # {"epoch": 0-based, "val_iou": float, "file": "best-NNNN.keras"}
    stopped: bool = False  # early stopping ended the run at this commit
    ema_swapped: bool = False  # committed with the EMA weights in the model (SwapEMAWeights)


def _names(n: int) -> tuple[str, str]:
    return f"epoch-{n:04d}.json", f"epoch-{n:04d}.weights.h5"


def write_log(path: Path, rows: list[dict]) -> None:
    """Atomically write `log.csv`: `epoch`, then every metric in sorted order (CSVLogger's layout)."""
    keys = sorted({key for row in rows for key in row} - {"epoch"})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row in rows:
        writer.writerow([row["epoch"], *(row.get(key, "") for key in keys)])
    write_text(path, buffer.getvalue() if rows else "")


def publish(source: Path, target: Path) -> None:
    """Copy `source` to `target` atomically (a copy, not a link: damage to one is not damage to both)."""
    with atomic_path(target, durable=True) as tmp:
        shutil.copyfile(source, tmp)


class Checkpoints(keras.callbacks.Callback):
    """Writes and commits the state after every epoch (see the module docstring); with
    `patience` > 0, stops when validation IoU has not improved for that many epochs."""

    def __init__(self, run: Path, state: State, patience: int = 0, ema: bool = False):
        super().__init__()
        self.run, self.backup, self.state, self.patience = run, run / "backup", state, patience
        self.ema = ema  # runs after SwapEMAWeights: the model holds the averaged weights

    def on_epoch_end(self, epoch, logs=None):
        state = self.state
        row = {"epoch": epoch, **{k: _number(v) for k, v in (logs or {}).items()}}
        state.rows = [r for r in state.rows if r["epoch"] < epoch] + [row]
        value = row.get("val_iou")
        improved = value is not None and (state.best is None or value > state.best["val_iou"])
        if improved:
            state.best = {"epoch": epoch, "val_iou": value, "file": f"best-{epoch + 1:04d}.keras"}
            check_space(self.backup, saved_bytes(self.model, optimizer=True))  # h5py crashes on a full disk
            with atomic_path(self.backup / state.best["file"], durable=True) as tmp:
                self.model.save(tmp)
        write_log(self.run / "log.csv", state.rows)
        plot_curves(self.run / "log.csv", self.run / "curves.png")
        best_epoch = state.best["epoch"] if state.best else -1
        state.stopped = self.patience > 0 and epoch - best_epoch >= self.patience
        state.epoch = epoch + 1
        meta, weights = _names(state.epoch)
        state.ema_swapped = self.ema
        info = {"epoch": state.epoch, "rows": state.rows, "best": state.best, "stopped": state.stopped,
                "ema_swapped": state.ema_swapped}
        write_text(self.backup / meta, json.dumps(info, indent=1) + "\n")
        check_space(self.backup / weights, saved_bytes(self.model, optimizer=True))
        with atomic_path(self.backup / weights, durable=True, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)  # the commit
        if improved:  # otherwise best.keras already is the committed best
            publish(self.backup / state.best["file"], self.run / "best.keras")
        prune(self.backup, state.epoch)
        if state.stopped:
            self.model.stop_training = True


def _number(value):
    with contextlib.suppress(TypeError, ValueError):
        return float(value)
    return value


def prune(backup: Path, newest: int) -> None:
    """Keep the `KEEP_COMMITS` newest commits up to `newest` and the best models they name."""
    commits = sorted((int(m[1]) for p in backup.glob("epoch-*.weights.h5") if (m := _COMMIT.match(p.name))),
                     reverse=True)
    keep = [n for n in commits if n <= newest][:KEEP_COMMITS]
    wanted = set()
    for n in keep:
        with contextlib.suppress(OSError, ValueError, TypeError):
            best = json.loads((backup / _names(n)[0]).read_text()).get("best")
            if best:
                wanted.add(best["file"])
    legacy = ("latest.weights.h5", "training_metadata.json") if keep else ()
    for path in backup.iterdir():
        m = re.match(r"^epoch-(\d{4,})\.", path.name)
        if ((m and int(m[1]) not in keep) or path.name in legacy
                or (path.name.startswith("best-") and path.name not in wanted)):
            with contextlib.suppress(OSError):
                path.unlink()


def _load_commit(backup: Path, n: int, model) -> State:
    """Load commit `n` into `model` (weights + optimizer); raise if its state cannot be read."""
    meta, weights = _names(n)
    info = json.loads((backup / meta).read_text())
    model.load_weights(backup / weights)
    return State(int(info["epoch"]), list(info["rows"]), info.get("best"), bool(info.get("stopped")),
                 bool(info.get("ema_swapped")))


def _check_best(backup: Path, state: State, say) -> None:
    """Forget a best model whose file is damaged (the next epochs choose one again), saying so."""
    if state.best:
        try:
            _check_zip(backup / state.best["file"])
        except ValueError as exc:
            say(f"warning: {backup / state.best['file']}: {exc}; the best model is chosen again "
                f"from epoch {state.epoch + 1} on")
            state.best = None


def _load_legacy(run: Path, model) -> State:
    """A run folder of an older version: Keras BackupAndRestore's files and a CSVLogger log."""
    backup = run / "backup"
    epoch = int(json.loads((backup / "training_metadata.json").read_text())["epoch"])
    model.load_weights(backup / "latest.weights.h5")
    log = read_log(run / "log.csv") if (run / "log.csv").is_file() else {}
    rows = [{k: (int(v[i]) if k == "epoch" else v[i]) for k, v in log.items() if i < len(v)}
            for i in range(len(log.get("epoch", [])))]
    rows = [r for r in rows if r["epoch"] < epoch]
    best = None
    if (run / "best.keras").is_file() and any("val_iou" in r for r in rows):
        top = max((r for r in rows if "val_iou" in r), key=lambda r: r["val_iou"])
        name = f"best-{top['epoch'] + 1:04d}.keras"
        best = {"epoch": top["epoch"], "val_iou": top["val_iou"], "file": name}
        publish(run / "best.keras", backup / best["file"])  # checked by _check_best
    return State(epoch, rows, best)


def _check_zip(path: Path) -> None:
    """A .keras file is a zip archive: its CRCs catch a truncated or damaged file cheaply."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path.name} is not a readable .keras file ({exc})") from None
    if bad is not None:
        raise ValueError(f"{path.name} is corrupt ({bad})")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def restore(run: Path, model, say=_say) -> State:
    """Load the newest good commit of `run` into `model` (optimizer built first) and make the run
    folder agree with it: log.csv, best.keras, no uncommitted files. State() if there is none."""
    backup = run / "backup"
    remove_stale_temps(run)
    remove_stale_temps(backup)
    if not backup.is_dir():
        backup.mkdir(parents=True, exist_ok=True)
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    commits = sorted((int(m[1]) for p in backup.iterdir() if (m := _COMMIT.match(p.name))), reverse=True)
    state, problems = None, []
    for n in commits:
        try:
            state = _load_commit(backup, n, model)
            break
        except Exception as exc:  # truncated, empty or missing files: try the commit before
            problems.append(f"{backup / _names(n)[1]}: unusable ({str(exc).splitlines()[0][:120]})")
    if state is None and (backup / "latest.weights.h5").is_file():
        try:
            state = _load_legacy(run, model)
        except Exception as exc:
            problems.append(f"{backup / 'latest.weights.h5'}: unusable ({str(exc).splitlines()[0][:120]})")
    for problem in problems:
        say(f"warning: {problem}")
    if state is not None:
        _check_best(backup, state, say)
    if state is None:
        state = State()
        if problems:
            say(f"{run}: no usable backup; starting again from epoch 0")
    elif problems:
        say(f"{run}: fell back to the last good backup, after epoch {state.epoch}")
    _agree(run, state, say)
    return state


def _agree(run: Path, state: State, say) -> None:
    """Rewrite the run folder's log and best model to match `state`; drop uncommitted files."""
    log = run / "log.csv"
    logged = read_log(log).get("epoch", []) if log.is_file() and log.stat().st_size else []
    if len(logged) != len(state.rows):
        say(f"{log}: rewritten to the {len(state.rows)} epoch(s) of the backup it resumes from "
            f"(it listed {len(logged)})")
    if state.rows or log.exists():
        write_log(log, state.rows)
        if state.rows:
            plot_curves(log, run / "curves.png")
    if state.best:
        publish(run / "backup" / state.best["file"], run / "best.keras")
    elif (run / "best.keras").exists():
        (run / "best.keras").unlink()
    prune(run / "backup", state.epoch)
