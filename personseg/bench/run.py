"""Inference speed per model × input size × backend, measured the same way for every runtime.

For each model, the weights are rebuilt at each fixed size (Keras) and exported at that size
(ONNX, TFLite; int8 from calibration photos), each export passing its parity check first.
Per backend: batch-1 latency (median and p90 of `runs` timed calls after `warmup` untimed
ones), batch throughput (median of timed batches), and end-to-end images/s of the
`personseg predict` code on photos (decode, letterbox, inference, un-letterbox, encode).
The pieces: `settings`, `measure`, `variants`, `report`; this module runs them in order.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from personseg.backends.refs import parse_ref
from personseg.backends.runtime import physical_cores
from personseg.bench.measure import e2e_inputs
from personseg.bench.report import machine, targets
from personseg.bench.settings import VARIANTS, Settings
from personseg.bench.variants import bench_model, bench_peers
from personseg.errors import OptionError, UserError


def run_bench(models: dict[str, Path], settings: Settings, workdir: Path | None = None, log=print,
              command: str = "") -> dict:
    """Benchmark every model (name → weights file); the JSON-ready result."""
    for variant in settings.variants:
        if variant not in VARIANTS:
            raise OptionError("backends", variant, f"choose from {', '.join(VARIANTS)}")
    for name in settings.peers or ():
        parse_ref(f"peer:{name}", "peers", ("peer",))
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
        rows, skipped = bench_peers(settings, inputs, workdir, log)
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
