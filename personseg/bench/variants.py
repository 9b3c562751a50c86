"""One benchmark row per model × size × backend variant: build or export the file (each export
passing its parity check), open it with its runtime, and time it; and one row per peer model
(`personseg.backends.peers`) at its own input size, with the same runtime settings, skipped with
a reason when its file is not found."""

from __future__ import annotations

from pathlib import Path

from personseg.backends import load_backend, peers
from personseg.backends.peer_backend import open_peer
from personseg.bench.measure import measure_e2e, measure_latency, measure_throughput
from personseg.bench.settings import VARIANTS, Settings
from personseg.errors import OptionError, UserError
from personseg.files import atomic_path


def _model_file(weights: Path, label: str, size: int, settings: Settings, workdir: Path):
    """(path to open, export result or None) for one variant at one size."""
    from personseg.export.exporter import export_model
    from personseg.models.loading import at_size, load_keras_model

    runtime, fmt, quantize = VARIANTS[label]
    if fmt is None:
        path = workdir / f"{weights.stem}-{size}.keras"
        if not path.exists():  # reused by later runs with --workdir: written atomically
            with atomic_path(path) as tmp:
                at_size(load_keras_model(weights), size).save(tmp)
        return path, None
    if quantize == "int8" and not settings.calibration:
        raise OptionError("calibration", "none", "int8 variants need calibration photos")
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
    from personseg.models.loading import load_keras_model, square_size

    rows, skipped = [], []
    native = square_size(load_keras_model(weights))  # the size the model ships at (None: any)
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
            row = {**base, "native_size": native,
                   "threads": getattr(backend, "threads", "tensorflow default"),
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


def bench_peers(settings: Settings, inputs: list[str], workdir: Path, log=print) -> tuple[list, list]:
    """A row per peer in `settings.peers` (default: all registered), a skip when its file is absent."""
    names = list(peers.PEERS) if settings.peers is None else list(settings.peers)
    rows, skipped = [], []
    for name in names:
        spec = peers.PEERS[name]
        base = {"model": name, "size": spec.size, "backend": spec.runtime, "runtime": spec.runtime,
                "quantize": spec.quantize, "peer": True}
        try:
            backend = open_peer(name, threads=settings.threads, peers_dir=settings.peers_dir)
        except UserError as exc:
            skipped.append({**base, "reason": str(exc)})
            log(f"skip {name}: {exc}")
            continue
        row = {**base, "threads": backend.threads, "file_bytes": backend.path.stat().st_size,
               "source": f"{spec.file}: {spec.about}", "sha256": peers.sha256(backend.path)}
        row.update(_measure(backend, spec.size, settings, inputs, workdir))
        log(_progress(row))
        rows.append(row)
        del backend
    return rows, skipped


def _progress(row: dict) -> str:
    lat, thr = row["latency_ms"], row["throughput"]
    e2e = f", e2e {row['e2e']['images_per_s']:.1f} img/s" if "e2e" in row else ""
    return (f"{row['model']} {row['size']}px {row['backend']}: {lat['median']:.2f} ms "
            f"(p90 {lat['p90']:.2f}), {thr['images_per_s']:.1f} img/s at batch {thr['batch']}{e2e}")
