"""A benchmark run's report: the targets (each model's fastest usable backend, relative to the
peers MediaPipe selfie and DeepLabV3 MNV2), the machine it ran on, and the JSON / Markdown files."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from personseg.backends.peers import PEERS
from personseg.backends.runtime import physical_cores
from personseg.files import write_text

# peers every model's latency is compared with: name -> (key in the targets, title)
REFERENCE_PEERS = {"mediapipe-selfie": ("mediapipe", "MediaPipe selfie"),
                   "deeplabv3-mnv2": ("deeplab", "DeepLabV3 MNV2")}


def is_peer_row(row: dict) -> bool:
    return bool(row.get("peer")) or row["model"] in PEERS


def targets(rows: list[dict], size: int = 256) -> list[dict]:
    """Each model's fastest batch-1 backend at `size` — and at the size it ships at, when that
    was measured too — relative to the MediaPipe selfie and DeepLabV3 MNV2 peers (each at its
    own input size) when they ran.
    Exports that missed their parity tolerance are timed and listed, but never the answer here:
    a file `personseg export` refuses to write is not a backend anyone can use."""
    references: dict[str, float] = {}
    for r in rows:
        if r["model"] in REFERENCE_PEERS:
            references.setdefault(REFERENCE_PEERS[r["model"]][0], r["latency_ms"]["median"])
    out = []
    native = {r["model"]: r.get("native_size") for r in rows if not is_peer_row(r)}  # size it ships at
    for model, shipped_at in native.items():
        for at in dict.fromkeys((size, shipped_at)):
            candidates = [r for r in rows if r["model"] == model and r["size"] == at
                          and r.get("parity", {}).get("within_tolerance", True)]
            if not candidates:  # not measured at that size (or `at` is None: any size)
                continue
            best = min(candidates, key=lambda r: r["latency_ms"]["median"])
            entry = {"model": model, "size": at, "fastest_backend": best["backend"],
                     "latency_ms": best["latency_ms"]["median"]}
            for key, ms in references.items():
                entry[f"{key}_ms"] = ms
                entry[f"ratio_to_{key}"] = round(entry["latency_ms"] / ms, 2)
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


def markdown(report: dict) -> str:
    """The results as a Markdown table, plus the comparison with the reference peers (`targets`)."""
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
        if is_peer_row(r):
            agreement = "peer"
        e2e = f"{r['e2e']['images_per_s']:.1f}" if "e2e" in r else "–"
        lines.append(
            f"| {r['model']} | {r['size']} | {r['backend']} | {r['latency_ms']['median']:.2f} | "
            f"{r['latency_ms']['p90']:.2f} | {r['throughput']['images_per_s']:.1f} | {e2e} | {agreement} |"
        )
    for t in report["targets"]:
        ratio = "".join(f", {t[f'ratio_to_{key}']:.2f}× {title} ({t[f'{key}_ms']:.2f} ms)"
                        for key, title in REFERENCE_PEERS.values() if f"ratio_to_{key}" in t)
        lines.append(f"\nFastest at {t['size']}×{t['size']} for {t['model']}: {t['fastest_backend']} "
                     f"{t['latency_ms']:.2f} ms{ratio}.")
    for s in report["skipped"]:
        lines.append(f"\nSkipped {s['model']} {s['size']} {s['backend']}: {s['reason']}")
    return "\n".join(lines) + "\n"


def write_report(report: dict, json_path: Path | None, md_path: Path | None) -> None:
    if json_path:
        write_text(json_path, json.dumps(report, indent=2) + "\n")
    if md_path:
        write_text(md_path, markdown(report))
