"""CPU, memory, load and disk readings: /proc and statvfs directly on Linux, psutil elsewhere."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from checkd.probes.readings import DiskUsage, LoadAverage, MemoryUsage, SwapUsage

MIN_WINDOW_S = 0.1
_LINUX = sys.platform.startswith("linux")


class ProcFile:
    """A /proc file kept open and re-read from offset 0 with pread.

    Once a second, psutil's open/readline/close plus its parsing of every field is a large part
    of a check's CPU with cold caches; one pread of an open descriptor and a few fields is a
    small fraction of it (the kernel regenerates a seq_file when it is read from offset 0;
    figures in docs/PERFORMANCE.md)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()  # only guards opening: pread itself needs no shared offset
        self._last: tuple[float, int, bytes] = (-1.0, 0, b"")  # (monotonic, size, bytes) of `recent`

    def recent(self, size: int, within_s: float) -> bytes:
        """What `read(size)` gives, reusing the last such read when it is at most `within_s` old:
        probes of one check that parse the same file (memory and swap) share one read of it."""
        at, got_size, data = self._last
        now = time.monotonic()
        if got_size == size and 0 <= now - at <= within_s:
            return data
        data = self.read(size)
        self._last = (now, size, data)
        return data

    def read(self, size: int) -> bytes:
        """Up to `size` bytes from the start of the file, as it is now."""
        fd = self._fd
        if fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                fd = self._fd
        return os.pread(fd, size, 0)


_PROC_STAT = ProcFile("/proc/stat")
_MEMINFO = ProcFile("/proc/meminfo")
_MEMINFO_SIZE = 4096  # MemTotal..SwapFree and more: every field the memory and swap probes parse
# A check's probes run within a few milliseconds; the shortest interval between checks is longer.
_ONE_CHECK_S = 0.01
_MEMINFO_FIELD = re.compile(rb"^(MemTotal|MemFree|MemAvailable|SwapTotal|SwapFree):\s+(\d+)", re.MULTILINE)


def _busy_and_total(times: Any) -> tuple[float, float]:
    # psutil's own definition: guest time is already counted in user time; idle and iowait are idle.
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


def _psutil_busy_and_total() -> tuple[float, float]:
    import psutil  # here, on the fallback path only: the agent does not load psutil on Linux

    return _busy_and_total(psutil.cpu_times())


def _proc_busy_and_total() -> tuple[float, float]:
    """Busy and total clock ticks from the first line of /proc/stat (psutil's fields and sums)."""
    # "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guest and guest_nice
    # are already in user and nice, so the total is the first eight.
    ticks = [int(x) for x in _PROC_STAT.read(512).split(b"\n", 1)[0].split()[1:9]]
    total = sum(ticks)
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return total - idle, total


def _cpu_reader() -> Callable[[], tuple[float, float]]:
    # Chosen once per CpuPercent: the baseline and every later read must be in the same unit
    # (clock ticks from /proc, seconds from psutil).
    if _LINUX:
        try:
            _proc_busy_and_total()
        except (OSError, ValueError, IndexError):
            pass
        else:
            return _proc_busy_and_total
    return _psutil_busy_and_total


class CpuPercent:
    """CPU percent over the interval since the previous read; the baseline is kept on this object.

    psutil.cpu_percent(None) keeps its baseline per thread, so priming it in one thread and
    reading in the sampler thread would give a meaningless 0.0; this keeps its own."""

    def __init__(self) -> None:
        self._read_times = _cpu_reader()
        self._last = self._read_times()
        self._primed_at: float | None = time.monotonic()

    def read(self) -> float:
        """Percent of all CPUs busy since the previous read (at least MIN_WINDOW_S for the first)."""
        if self._primed_at is not None:
            # A reading over a few milliseconds is noise; give the first one a real window.
            time.sleep(max(0.0, MIN_WINDOW_S - (time.monotonic() - self._primed_at)))
            self._primed_at = None
        busy, total = self._read_times()
        last_busy, last_total = self._last
        self._last = (busy, total)
        if total <= last_total:
            return 0.0
        return round(min(100.0, max(0.0, (busy - last_busy) / (total - last_total) * 100)), 1)


def _percent(used: int, total: int) -> float:
    # psutil's usage_percent(..., round_=1), so the figures are the same whichever path read them.
    return round(float(used) / total * 100, 1) if total else 0.0


def _meminfo() -> dict[bytes, int]:
    """The /proc/meminfo fields the memory and swap probes use, in bytes (the file counts kB)."""
    found = _MEMINFO_FIELD.findall(_MEMINFO.recent(_MEMINFO_SIZE, _ONE_CHECK_S))
    return {name: int(kib) * 1024 for name, kib in found}


def _proc_memory() -> MemoryUsage | None:
    """MemTotal and MemAvailable from /proc/meminfo as psutil reports them; None to ask psutil."""
    fields = _meminfo()
    total, free, avail = fields.get(b"MemTotal"), fields.get(b"MemFree"), fields.get(b"MemAvailable")
    if total is None or free is None or not avail or avail < 0:
        return None  # an old kernel without MemAvailable: psutil estimates it
    if avail > total:
        avail = free  # psutil's guard against a bogus MemAvailable (some containers)
    used = total - avail
    return MemoryUsage(total=total, available=avail, used=used, percent=_percent(used, total))


def read_memory() -> MemoryUsage:
    """Virtual memory totals from /proc/meminfo (psutil.virtual_memory's total/available/used/percent)."""
    if _LINUX:
        try:
            memory = _proc_memory()
        except (OSError, ValueError, IndexError):
            memory = None
        if memory is not None:
            return memory
    import psutil  # the fallback path only (see _psutil_busy_and_total)

    vm = psutil.virtual_memory()
    return MemoryUsage(total=vm.total, available=vm.available, used=vm.used, percent=vm.percent)


def read_load() -> LoadAverage:
    """Load averages from the kernel."""
    one, five, fifteen = os.getloadavg()
    return LoadAverage(one, five, fifteen)


def read_disk(path: str) -> DiskUsage:
    """Usage of the filesystem holding `path` (psutil.disk_usage's figures; statvfs on Linux)."""
    if not _LINUX:
        import psutil  # the fallback path only (see _psutil_busy_and_total)

        du = psutil.disk_usage(path)
        return DiskUsage(path=path, total=du.total, used=du.used, free=du.free, percent=du.percent)
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    used = total - st.f_bfree * st.f_frsize
    free = st.f_bavail * st.f_frsize  # what an unprivileged user may still use
    percent = _percent(used, used + free)
    return DiskUsage(path, total, used, free, percent, inodes_total=st.f_files, inodes_free=st.f_ffree)


def _proc_swap() -> SwapUsage | None:
    """SwapTotal and SwapFree from /proc/meminfo, as psutil.swap_memory reports them."""
    fields = _meminfo()
    total, free = fields.get(b"SwapTotal"), fields.get(b"SwapFree")
    if total is None or free is None:
        return None
    used = total - free
    return SwapUsage(total=total, used=used, free=free, percent=_percent(used, total))


def read_swap() -> SwapUsage:
    """Swap totals (psutil.swap_memory's total/used/free/percent)."""
    if _LINUX:
        try:
            swap = _proc_swap()
        except (OSError, ValueError, IndexError):
            swap = None
        if swap is not None:
            return swap
    import psutil  # the fallback path only (see _psutil_busy_and_total)

    sm = psutil.swap_memory()
    return SwapUsage(total=sm.total, used=sm.used, free=sm.free, percent=sm.percent)


def count_processes() -> int:
    """Processes on the host (what psutil.pids() counts: the numeric entries of /proc)."""
    if _LINUX:
        try:
            return sum(1 for name in os.listdir("/proc") if name.isdigit())
        except OSError:
            pass
    import psutil  # the fallback path only (see _psutil_busy_and_total)

    return len(psutil.pids())


class ProcessCount:
    """The process count, read at most once per `every_s` seconds and reused in between.

    Counting means reading the /proc directory, whose entries the kernel builds for every process
    on each read: most of a check's probe CPU at a 1 s interval (docs/PERFORMANCE.md). The count
    moves slowly, so checks closer together than `every_s` share one reading."""

    def __init__(self, every_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._last: tuple[float, int] | None = None

    def read(self) -> int:
        """Processes on the host, as of at most `every_s` seconds ago."""
        now = self._clock()
        last = self._last
        if last is not None and now - last[0] < self.every_s:
            return last[1]
        count = count_processes()
        self._last = (now, count)
        return count
