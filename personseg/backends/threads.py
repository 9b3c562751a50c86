"""How many threads an inference runtime should use by default: one per physical core.

Convolution kernels are compute-bound, so hyper-threads sharing a core's vector units add
contention rather than speed; and a process pinned to fewer CPUs (taskset, containers)
should not start more threads than it may run.
"""

from __future__ import annotations

import os


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
