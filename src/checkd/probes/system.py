"""CPU, memory, load and disk readings through psutil."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil

from checkd.probes.readings import DiskUsage, LoadAverage, MemoryUsage

MIN_WINDOW_S = 0.1


def _busy_and_total(times: Any) -> tuple[float, float]:
    # psutil's own definition: guest time is already counted in user time; idle and iowait are idle.
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


class CpuPercent:
    """CPU percent over the interval since the previous read; the baseline is kept on this object.

    psutil.cpu_percent(None) keeps its baseline per thread, so priming it in one thread and
    reading in the sampler thread would give a meaningless 0.0; this keeps its own."""

    def __init__(self) -> None:
        self._last = _busy_and_total(psutil.cpu_times())
        self._primed_at: float | None = time.monotonic()

    def read(self) -> float:
        """Percent of all CPUs busy since the previous read (at least MIN_WINDOW_S for the first)."""
        if self._primed_at is not None:
            # A reading over a few milliseconds is noise; give the first one a real window.
            time.sleep(max(0.0, MIN_WINDOW_S - (time.monotonic() - self._primed_at)))
            self._primed_at = None
        busy, total = _busy_and_total(psutil.cpu_times())
        last_busy, last_total = self._last
        self._last = (busy, total)
        if total <= last_total:
            return 0.0
        return round(min(100.0, max(0.0, (busy - last_busy) / (total - last_total) * 100)), 1)


def read_memory() -> MemoryUsage:
    """Virtual memory totals from /proc/meminfo."""
    vm = psutil.virtual_memory()
    return MemoryUsage(total=vm.total, available=vm.available, used=vm.used, percent=vm.percent)


def read_load() -> LoadAverage:
    """Load averages from the kernel."""
    one, five, fifteen = os.getloadavg()
    return LoadAverage(one, five, fifteen)


def read_disk(path: str) -> DiskUsage:
    """Usage of the filesystem holding `path`."""
    du = psutil.disk_usage(path)
    return DiskUsage(path=path, total=du.total, used=du.used, free=du.free, percent=du.percent)
