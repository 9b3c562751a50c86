"""Inference speed per model × input size × backend, measured the same way for every runtime.

For each model, the weights are rebuilt at each fixed size (Keras) and exported at that size
(ONNX, TFLite; int8 from calibration photos), each export passing its parity check first.
Per backend: batch-1 latency (median and p90 of `runs` timed calls after `warmup` untimed
ones), batch throughput (median of timed batches), and end-to-end images/s of the
`personseg predict` code on photos (decode, letterbox, inference, un-letterbox, encode).
MediaPipe's selfie segmenter runs as a peer through the same LiteRT settings when its model
is available (see `personseg.mediapipe_peer`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from personseg import mediapipe_peer, parity
from personseg.backends import load_backend
from personseg.backends.runtime import physical_cores
from personseg.errors import UserError

# label -> (runtime, export format or None for Keras, quantization)
VARIANTS: dict[str, tuple[str, str | None, str]] = {
    "keras": ("keras", None, "none"),
    "onnx": ("onnx", "onnx", "none"),
    "onnx-fp16": ("onnx", "onnx", "fp16"),
    "onnx-int8": ("onnx", "onnx", "int8"),
    "tflite": ("tflite", "tflite", "none"),
    "tflite-fp16": ("tflite", "tflite", "fp16"),
    "tflite-int8": ("tflite", "tflite", "int8"),
}
DEFAULT_VARIANTS = ["keras", "onnx", "onnx-int8", "tflite", "tflite-int8"]


@dataclass
class Settings:
    sizes: list[int] = field(default_factory=lambda: [256, 512])
    variants: list[str] = field(default_factory=lambda: list(DEFAULT_VARIANTS))
    runs: int = 50
    warmup: int = 10
    batch: int = 32
    batch_runs: int = 3
    threads: int | None = None
    calibration: tuple[str, ...] = ()
    calibration_count: int = 100
    e2e_inputs: tuple[str, ...] = ()
    e2e_images: int = 64
    mediapipe: str | None = "auto"  # "auto", "none" or a path

    @classmethod
    def quick(cls, **overrides) -> Settings:
        """Tiny sizes and few runs: checks the whole pipeline in seconds (used by the tests)."""
        values = {"sizes": [64], "variants": ["keras", "onnx", "tflite"], "runs": 5, "warmup": 2,
                  "batch": 4, "batch_runs": 2, "calibration_count": 8, "e2e_images": 4}
        values.update(overrides)
        return cls(**values)


def _sample_batch(size: int, n: int) -> np.ndarray:
    """n letterboxed copies of the bundled photos (real pixels, not noise)."""
    photos = list(parity.sample_images().values())
    batch, _ = parity.letterboxed([photos[i % len(photos)] for i in range(n)], size)
    return batch


def measure_latency(backend, size: int, runs: int, warmup: int) -> dict:
    """Batch-1 predict() wall time in ms: median, p90, mean, min over `runs` calls after warm-up."""
    x = _sample_batch(size, 1)
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
    x = _sample_batch(size, batch)
    backend.predict(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.predict(x)
        times.append(time.perf_counter() - start)
    return {"batch": batch, "images_per_s": round(batch / float(np.median(times)), 2), "runs": runs}


def measure_e2e(backend, inputs: list[str], workdir: Path) -> dict:
    """`personseg predict` (default outputs mask + overlay, batch 8) on photos: images/s."""
    from personseg.predict import parse_kinds, run_predict
    from personseg.segmenter import Segmenter

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


def e2e_inputs(settings: Settings, workdir: Path) -> list[str]:
    """The first `e2e_images` photos of the given inputs, or the bundled photos written to disk."""
    if settings.e2e_inputs:
        files = parity.list_images(list(settings.e2e_inputs))
        return [str(p) for p in files[: settings.e2e_images]]
    import cv2

    folder = workdir / "e2e-photos"
    folder.mkdir(exist_ok=True)
    photos = list(parity.sample_images().items())
    paths = []
    for i in range(settings.e2e_images):
        name, image = photos[i % len(photos)]
        path = folder / f"{i:03d}_{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        paths.append(str(path))
    return paths


def _model_file(weights: Path, label: str, size: int, settings: Settings, workdir: Path):
    """(path to open, export result or None) for one variant at one size."""
    from personseg.export import at_size, export_model, load_keras_model

    runtime, fmt, quantize = VARIANTS[label]
    if fmt is None:
        path = workdir / f"{weights.stem}-{size}.keras"
        if not path.exists():
            at_size(load_keras_model(weights), size).save(path)
        return path, None
    if quantize == "int8" and not settings.calibration:
        raise UserError("int8 needs --calibration photos")
    suffix = ".onnx" if fmt == "onnx" else ".tflite"
    out = workdir / f"{weights.stem}-{size}-{quantize}{suffix}"
    # strict=False: a quantised file that misses its tolerance is still timed; its parity says so
    result = export_model(weights, fmt, quantize=quantize, size=size, out=out, strict=False,
                          calibration=settings.calibration, calibration_count=settings.calibration_count)
    return out, result


def _measure(backend, size: int, settings: Settings, inputs: list[str], workdir: Path) -> dict:
    row = {
        "latency_ms": measure_latency(backend, size, settings.runs, settings.warmup),
        "throughput": measure_throughput(backend, size, settings.batch, settings.batch_runs),
    }
    if inputs:
        row["e2e"] = measure_e2e(backend, inputs, workdir)
    return row


def bench_model(name: str, weights: Path, settings: Settings, inputs: list[str], workdir: Path,
                log=print) -> tuple[list[dict], list[dict]]:
    rows, skipped = [], []
    for size in settings.sizes:
        for label in settings.variants:
            runtime, fmt, quantize = VARIANTS[label]
            base = {"model": name, "size": size, "backend": label, "runtime": runtime, "quantize": quantize}
            try:
                path, result = _model_file(weights, label, size, settings, workdir)
                options = {} if runtime == "keras" else {"threads": settings.threads}
                backend = load_backend(path, runtime, **options)
            except UserError as exc:
                skipped.append({**base, "reason": str(exc)})
                log(f"skip {name} {size} {label}: {exc}")
                continue
            row = {**base, "threads": getattr(backend, "threads", "tensorflow default"),
                   "file_bytes": (result.bytes if result else path.stat().st_size)}
            if result is not None:
                row["parity"] = {
                    "images": len(result.parity),
                    "within_tolerance": all(r.ok for r in result.parity),
                    "tolerance": result.tolerance.describe(),
                    "max_abs_diff": max(r.max_abs_diff for r in result.parity),
                    "min_agreement": min(r.agreement for r in result.parity),
                }
            row.update(_measure(backend, size, settings, inputs, workdir))
            log(_progress(row))
            rows.append(row)
            del backend
    return rows, skipped


def bench_mediapipe(settings: Settings, inputs: list[str], workdir: Path, log=print) -> tuple[list, list]:
    if settings.mediapipe == "none":
        return [], []
    path = mediapipe_peer.find_model(None if settings.mediapipe == "auto" else settings.mediapipe)
    base = {"model": mediapipe_peer.NAME, "size": 256, "backend": "tflite", "runtime": "tflite",
            "quantize": "none"}
    if path is None:
        reason = (f"model not found; run `personseg bench --fetch-mediapipe` (pip download "
                  f"mediapipe=={mediapipe_peer.VERSION} --no-deps, extract the .tflite) or set "
                  "PERSONSEG_MEDIAPIPE_TFLITE")
        log(f"skip {mediapipe_peer.NAME}: {reason}")
        return [], [{**base, "reason": reason}]
    backend = mediapipe_peer.MediaPipeSelfie(path, threads=settings.threads)
    size = backend.input_size[0]
    row = {**base, "size": size, "threads": backend.threads, "file_bytes": path.stat().st_size,
           "source": f"mediapipe=={mediapipe_peer.VERSION} {mediapipe_peer.MEMBER}",
           "sha256": mediapipe_peer.sha256(path)}
    row.update(_measure(backend, size, settings, inputs, workdir))
    log(_progress(row))
    return [row], []


def _progress(row: dict) -> str:
    lat, thr = row["latency_ms"], row["throughput"]
    e2e = f", e2e {row['e2e']['images_per_s']:.1f} img/s" if "e2e" in row else ""
    return (f"{row['model']} {row['size']}px {row['backend']}: {lat['median']:.2f} ms "
            f"(p90 {lat['p90']:.2f}), {thr['images_per_s']:.1f} img/s at batch {thr['batch']}{e2e}")


def targets(rows: list[dict], size: int = 256) -> list[dict]:
    """Each model's fastest batch-1 backend at `size`, relative to MediaPipe in the same run.
    Exports that missed their parity tolerance are timed and listed, but never the answer here:
    a file `personseg export` refuses to write is not a backend anyone can use."""
    peer = [r for r in rows if r["model"] == mediapipe_peer.NAME]
    out = []
    for model in dict.fromkeys(r["model"] for r in rows if r["model"] != mediapipe_peer.NAME):
        candidates = [r for r in rows if r["model"] == model and r["size"] == size
                      and r.get("parity", {}).get("within_tolerance", True)]
        if not candidates:
            continue
        best = min(candidates, key=lambda r: r["latency_ms"]["median"])
        entry = {"model": model, "size": size, "fastest_backend": best["backend"],
                 "latency_ms": best["latency_ms"]["median"]}
        if peer:
            entry["mediapipe_ms"] = peer[0]["latency_ms"]["median"]
            entry["ratio_to_mediapipe"] = round(entry["latency_ms"] / entry["mediapipe_ms"], 2)
        out.append(entry)
    return out


def machine() -> dict:
    import importlib.metadata as metadata

    versions = {}
    for package in ("tensorflow", "keras", "onnxruntime", "ai-edge-litert", "tf2onnx", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="ascii", errors="replace"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "physical_cores": physical_cores(),
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions}


def run_bench(models: dict[str, Path], settings: Settings, workdir: Path | None = None, log=print,
              command: str = "") -> dict:
    """Benchmark every model (name → weights file); the JSON-ready result."""
    for variant in settings.variants:
        if variant not in VARIANTS:
            raise UserError(f"unknown backend {variant!r}; choose from {', '.join(VARIANTS)}")
    for name, path in models.items():
        if not Path(path).is_file():
            raise UserError(f"{path}: weights file not found (model {name})")
    own_workdir = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="personseg-bench-")) if own_workdir else Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    try:
        inputs = e2e_inputs(settings, workdir) if settings.e2e_images > 0 else []
        rows, skipped = bench_mediapipe(settings, inputs, workdir, log)
        for name, path in models.items():
            model_rows, model_skipped = bench_model(name, Path(path), settings, inputs, workdir, log)
            rows += model_rows
            skipped += model_skipped
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    settings_dict = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(settings).items()}
    settings_dict["threads"] = settings.threads or physical_cores()
    return {
        "command": command,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "seconds": round(time.perf_counter() - started, 1),
        "settings": settings_dict,
        "models": {name: str(path) for name, path in models.items()},
        "results": rows,
        "skipped": skipped,
        "targets": targets(rows),
    }


def markdown(report: dict) -> str:
    """The results as a Markdown table, plus the MediaPipe comparison at 256×256."""
    lines = [
        "| model | size | backend | batch-1 median ms | p90 ms | batch-32 img/s | e2e img/s | parity |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines[0] = lines[0].replace("batch-32", f"batch-{report['settings']['batch']}")
    for r in report["results"]:
        p = r.get("parity")
        agreement = f"{p['min_agreement']:.2%} (max Δp {p['max_abs_diff']:.1e})" if p else "reference"
        if p and not p["within_tolerance"]:
            agreement += " **below tolerance**"
        if r["model"] == mediapipe_peer.NAME:
            agreement = "peer"
        e2e = f"{r['e2e']['images_per_s']:.1f}" if "e2e" in r else "–"
        lines.append(
            f"| {r['model']} | {r['size']} | {r['backend']} | {r['latency_ms']['median']:.2f} | "
            f"{r['latency_ms']['p90']:.2f} | {r['throughput']['images_per_s']:.1f} | {e2e} | {agreement} |"
        )
    for t in report["targets"]:
        ratio = (f", {t['ratio_to_mediapipe']:.2f}× MediaPipe ({t['mediapipe_ms']:.2f} ms)"
                 if "ratio_to_mediapipe" in t else "")
        lines.append(f"\nFastest at {t['size']}×{t['size']} for {t['model']}: {t['fastest_backend']} "
                     f"{t['latency_ms']:.2f} ms{ratio}.")
    for s in report["skipped"]:
        lines.append(f"\nSkipped {s['model']} {s['size']} {s['backend']}: {s['reason']}")
    return "\n".join(lines) + "\n"


def write_report(report: dict, json_path: Path | None, md_path: Path | None) -> None:
    from personseg.io import write_text

    if json_path:
        write_text(json_path, json.dumps(report, indent=2) + "\n")
    if md_path:
        write_text(md_path, markdown(report))
