"""How a backend is timed: batch-1 latency and batch throughput on letterboxed sample photos
(untimed warm-up first, medians reported), and end-to-end `personseg predict` images/s."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from personseg.data.dataset_layout import spec_images
from personseg.errors import UserError
from personseg.files import write_image
from personseg.inference.letterbox import letterbox_batch
from personseg.inference.sample_photos import sample_images


def sample_batch(size: int | tuple[int, int], n: int) -> np.ndarray:
    """n copies of the bundled photos (real pixels, not noise) letterboxed into size×size, or
    into an (H, W) canvas."""
    photos = list(sample_images().values())
    batch, _ = letterbox_batch([photos[i % len(photos)] for i in range(n)], size)
    return batch


def measure_latency(backend, size: int, runs: int, warmup: int) -> dict:
    """Batch-1 predict() wall time in ms: median, p90, mean, min over `runs` calls after warm-up."""
    x = sample_batch(size, 1)
    for _ in range(warmup):
        backend.predict(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.predict(x)
        times.append((time.perf_counter() - start) * 1e3)
    return {
        "median": round(float(np.median(times)), 3), "p90": round(float(np.percentile(times, 90)), 3),
        "mean": round(float(np.mean(times)), 3), "min": round(float(np.min(times)), 3), "runs": runs,
    }


def measure_throughput(backend, size: int, batch: int, runs: int) -> dict:
    """Images/s of predict() on `batch` images at once (median over `runs`, after one warm-up)."""
    x = sample_batch(size, batch)
    backend.predict(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.predict(x)
        times.append(time.perf_counter() - start)
    return {"batch": batch, "images_per_s": round(batch / float(np.median(times)), 2), "runs": runs}


def measure_e2e(backend, inputs: list[str], workdir: Path) -> dict:
    """`personseg predict` (default outputs mask + overlay, batch 8) on photos: images/s."""
    from personseg.inference.outputs import parse_kinds
    from personseg.inference.predict import run_predict
    from personseg.inference.segmenter import Segmenter

    out = Path(tempfile.mkdtemp(prefix="e2e-", dir=workdir))
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # predict's progress bar
            report = run_predict(Segmenter(backend), inputs, out, parse_kinds("mask,overlay"), verbose=False)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if report.failures:
        raise UserError(f"end-to-end run failed on {len(report.failures)} input(s): {report.failures[0]}")
    return {"images": report.images, "seconds": round(report.seconds, 3),
            "images_per_s": round(report.images / report.seconds, 2)}


def e2e_inputs(settings, workdir: Path) -> list[str]:
    """The first `e2e_images` photos of the given inputs, or the bundled photos written to disk."""
    if settings.e2e_inputs:
        files = spec_images(list(settings.e2e_inputs))
        return [str(p) for p in files[: settings.e2e_images]]

    folder = workdir / "e2e-photos"
    folder.mkdir(exist_ok=True)
    photos = list(sample_images().items())
    paths = []
    for i in range(settings.e2e_images):
        name, image = photos[i % len(photos)]
        path = folder / f"{i:03d}_{name}.jpg"
        write_image(path, image)  # atomic, and a failed write is an error, not a missing photo
        paths.append(str(path))
    return paths
