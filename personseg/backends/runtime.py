"""What the backends share: importing an optional runtime, the default thread count, and the one
rule for the input size (a model's fixed N×N, or the size asked for when it takes any).

Threads: one per physical core. Convolution kernels are compute-bound, so hyper-threads sharing
a core's vector units add contention rather than speed; and a process pinned to fewer CPUs
(taskset, containers) should not start more threads than it may run.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from personseg.errors import UserError
from personseg.limits import check_size

EXTRA_HINT = "pip install 'personseg[export]'"


def require(module: str, what: str):
    """Import an optional runtime module, or raise a UserError saying what needs it and what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = {"ai_edge_litert": "ai-edge-litert"}.get(module.split(".")[0], module.split(".")[0])
        raise UserError(f"{what} needs {package}, which is not installed; {EXTRA_HINT} "
                        f"(or just: pip install {package})") from None


def _cores_from_cpuinfo() -> int | None:
    try:
        text = open("/proc/cpuinfo", encoding="ascii", errors="replace").read()
    except OSError:
        return None
    cores, physical = set(), "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            cores.add((physical, value.strip()))
    return len(cores) or None


def physical_cores() -> int:
    """Physical cores this process may run on (psutil, then /proc/cpuinfo, then os.cpu_count())."""
    try:
        import psutil

        count = psutil.cpu_count(logical=False)
    except ImportError:
        count = None
    count = count or _cores_from_cpuinfo() or os.cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        count = min(count, len(os.sched_getaffinity(0)))
    return max(1, count)


def fixed_or_requested_size(path: str | Path, height, width, size: int | None) -> tuple[int, int]:
    """(H, W) to feed: the model's fixed size, or `size` when the model takes any size."""
    if isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0:
        if size is not None and (size, size) != (height, width):
            raise UserError(f"{path}: model has a fixed {height}×{width} input; size={size} conflicts")
        return height, width
    if size is None:
        raise UserError(f"{path}: model has a dynamic input size; give a size (a multiple of 32)")
    check_size(size)
    return size, size
