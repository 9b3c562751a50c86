"""The `ray` engine of `personseg predict` (`engines`): photos spread over a Ray cluster.

This process lists the photos and names their outputs exactly as a local run does (`predict`,
`outputs`); a Ray Data pipeline hands them out in chunks to `PhotoWorker` actors, one per worker,
each holding one Segmenter on ONNX Runtime (no TensorFlow) and running the local path's
`stills.predict_stills` on its chunk: the same resume (photos whose outputs exist are skipped,
here before Ray starts), decoding, rendering and atomic writes. Each chunk sends back counts and
failures only.

A killed worker is restarted by Ray and its chunk run again: what it had written is skipped, what
it was writing was a temporary file, removed at the end of the run. Without `address` Ray starts
inside this process (127.0.0.1, a small object store, no dashboard, no usage statistics) and stops
with the run; `address` (`auto`, `ray://HOST:PORT`) joins a running cluster, whose nodes must see
the same paths (photos, `--out`, a model file) and have `personseg[ray]` installed.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import sys
from pathlib import Path

import numpy as np
import ray

from personseg.disk import remove_stale_temps
from personseg.errors import OptionError, UserError
from personseg.inference.outputs import Item
from personseg.inference.render import Look
from personseg.inference.segmenter import ModelSource, Segmenter
from personseg.inference.stills import missing_kinds, predict_stills
from personseg.progress import progress_bar
from personseg.quiet import filtered_stderr

CHUNK_BATCHES = 4  # model batches per chunk: what a worker takes at a time and, if killed, redoes
OBJECT_STORE_MB = 200  # the embedded Ray's object store: only file names and counts travel


class _Tally:
    """The report a worker keeps for one chunk (`predict_stills` adds to it)."""

    def __init__(self):
        self.images = self.skipped = 0
        self.failures: list[str] = []

    def fail(self, message: str) -> None:
        self.failures.append(message)


class PhotoWorker:
    """One Ray worker: opens the model once, then segments and writes chunks of photos."""

    def __init__(self, model: ModelSource | Segmenter, tta: bool, out_dir: str, kinds: list[str], look: Look,
                 batch_size: int, overwrite: bool, workers: int, threads: int):
        if isinstance(model, ModelSource):
            options = {**model.options, "threads": threads}
            model = Segmenter(model.ref, tta=tta, runtime=model.backend, framing=model.framing, **options)
        self.seg, self.out_dir, self.kinds, self.look = model, Path(out_dir), kinds, look
        self.batch_size, self.overwrite, self.workers = batch_size, overwrite, workers
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [Item(Path(path), str(name), False) for path, name in zip(batch["path"], batch["name"],
                                                                           strict=True)]
        tally = _Tally()
        predict_stills(self.seg, items, self.out_dir, self.kinds, self.look, self.batch_size, tally,
                       overwrite=self.overwrite, workers=self.workers, progress=False)
        shown = {f"{path}:": f"{given}:" for path, given in zip(batch["path"], batch["shown"], strict=True)}
        failures = [next((message.replace(p, g, 1) for p, g in shown.items() if message.startswith(p)),
                         message) for message in tally.failures]  # the paths as the user gave them
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"images": np.array([tally.images]), "skipped": np.array([tally.skipped]),
                "failures": np.array([json.dumps(failures)]), "worker": np.array([self.name]),
                "peak_mb": np.array([peak_mb])}


def predict_stills_ray(seg: Segmenter, items: list[Item], out_dir: Path, kinds: list[str], look: Look,
                       batch_size: int, report, overwrite: bool = False, workers: int = 2, *,
                       address: str | None = None, num_workers: int | None = None,
                       cpus_per_worker: int = 1) -> None:
    """`stills.predict_stills` on Ray: `num_workers` workers (default: the cluster's CPUs /
    `cpus_per_worker`), each with `cpus_per_worker` CPUs and model threads and `workers` decode
    threads. Photos whose outputs exist are skipped here, before Ray starts (a rerun with nothing
    to do starts nothing). `report` also gets `workers`: each worker's peak memory (MB)."""
    for option, value in (("num_workers", num_workers), ("cpus_per_worker", cpus_per_worker)):
        if value is not None and value < 1:
            raise OptionError(option, value, "must be at least 1")
    model = _portable(seg)
    jobs = [item for item in items if missing_kinds(out_dir, item, kinds, overwrite)]
    report.skipped += len(items) - len(jobs)
    if not jobs:
        return
    started_here = connect(address, (num_workers or 0) * cpus_per_worker)
    try:
        if num_workers is None:
            num_workers = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_worker))
        _run((model, seg.tta), jobs, Path(out_dir).resolve(), kinds, look, batch_size, report, overwrite,
             workers, num_workers, cpus_per_worker)
    finally:
        if started_here:
            ray.shutdown()
    for path in remove_stale_temps(out_dir):  # a killed worker's unfinished file
        print(f"note: {path}: removed, a temporary file of a killed worker", file=sys.stderr)


def _portable(seg: Segmenter) -> ModelSource | Segmenter:
    """What the workers open: the model by name or absolute path, on ONNX Runtime (never
    TensorFlow), or `seg` itself when it wraps a backend object of the caller's."""
    from personseg.backends.onnx_backend import OnnxBackend
    from personseg.backends.refs import parse_ref

    source = seg.source
    if source is None:
        return seg
    if not isinstance(seg.backend, OnnxBackend):
        raise UserError(f"{source.ref}: the ray engine runs onnx models only, not "
                        f"{type(seg.backend).__name__}")
    ref = parse_ref(source.ref)
    spec = str(Path(ref.name).resolve()) if ref.kind == "file" else str(ref)
    return ModelSource(spec, "onnx", dict(source.options), seg.framing)


def connect(address: str | None, cpus: int = 0) -> bool:
    """Join the cluster at `address`, or start Ray inside this process (at least `cpus` CPUs);
    True when this call started or joined it (the caller then shuts it down). No dashboard, no
    usage statistics, workers' output kept off this terminal. Ray gives its own processes about
    15 s to start: an overloaded machine can miss that, which is one error line."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # Ray's own notes on stderr, not ours
    if ray.is_initialized():
        return False
    options = {"log_to_driver": False, "logging_level": logging.ERROR, "include_dashboard": False}
    if address:
        try:
            with filtered_stderr():
                ray.init(address=address, **options)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
            raise UserError(f"--address {address}: cannot join the Ray cluster ({exc})") from None
        return True
    root = str(Path(__file__).resolve().parents[2])  # the folder holding this personseg package
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    try:
        with filtered_stderr():  # Ray's C++ start-up lines
            ray.init(address="local", num_cpus=max(os.cpu_count() or 1, cpus),
                     _node_ip_address="127.0.0.1", object_store_memory=OBJECT_STORE_MB * 2**20,
                     runtime_env={"env_vars": {"PYTHONPATH": path}}, **options)
    except Exception as exc:  # "The current node timed out during startup", and kin
        raise UserError(f"ray: could not start on this machine ({exc}); retry when it is less busy, "
                        "or start Ray yourself (ray start --head) and pass --address auto") from None
    return True


def _run(model, items, out_dir, kinds, look, batch_size, report, overwrite, workers, num_workers,
         cpus_per_worker) -> None:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours counts photos
    context.print_on_execution_start = False
    context.verbose_stats_logs = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    chunk = batch_size * CHUNK_BATCHES
    rows = [{"path": str(i.path.resolve()), "shown": str(i.path), "name": i.name} for i in items]
    dataset = ray.data.from_items(rows, override_num_blocks=max(1, -(-len(rows) // chunk)))
    results = dataset.map_batches(
        PhotoWorker, batch_size=chunk, compute=ray.data.ActorPoolStrategy(size=num_workers),
        num_cpus=cpus_per_worker, fn_constructor_args=(*model, str(out_dir), kinds, look, batch_size,
                                                       overwrite, workers, cpus_per_worker))
    with progress_bar(total=len(rows), desc="images", unit=" images", dynamic_ncols=True,
                      smoothing=0.1) as progress:
        try:
            for row in results.iter_rows():
                report.images += int(row["images"])
                report.skipped += int(row["skipped"])
                for failure in json.loads(row["failures"]):
                    report.fail(failure)
                worker = report.workers.setdefault(row["worker"], {"peak_mb": 0.0})
                worker["peak_mb"] = max(worker["peak_mb"], round(float(row["peak_mb"]), 1))
                progress.update(int(row["images"]) + int(row["skipped"]) + len(json.loads(row["failures"])))
        except Exception as exc:  # a worker's UserError (e.g. a full disk) reaches here wrapped by Ray
            raise _user_error(exc) or exc from None


def _user_error(exc: BaseException) -> UserError | None:
    """The UserError inside Ray's wrappers (RayTaskError, Ray Data's UserCodeException), if any."""
    seen = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, UserError) and not isinstance(seen, ray.exceptions.RayError):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else seen.__cause__ or seen.__context__
    return None
