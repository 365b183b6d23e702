"""CPU, memory, load and disk readings through psutil."""

from __future__ import annotations

import os
import time

import psutil

from checkd.probes.readings import DiskUsage, LoadAverage, MemoryUsage

MIN_WINDOW_S = 0.1


class CpuPercent:
    """CPU percent over the interval since the previous call (primed at construction)."""

    def __init__(self) -> None:
        # The first psutil.cpu_percent(None) call returns a meaningless 0.0; prime it now so the
        # first real reading covers the time since construction.
        psutil.cpu_percent(interval=None)
        self._primed_at: float | None = time.monotonic()

    def read(self) -> float:
        """Percent of all CPUs busy since the previous read (at least MIN_WINDOW_S for the first)."""
        if self._primed_at is not None:
            # A reading over a few milliseconds is noise; give the first one a real window.
            time.sleep(max(0.0, MIN_WINDOW_S - (time.monotonic() - self._primed_at)))
            self._primed_at = None
        return float(psutil.cpu_percent(interval=None))


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
