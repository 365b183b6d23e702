"""The host's top processes by cpu or memory, read live with psutil; a process gone meanwhile is skipped."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import psutil

from checkd.probes.check import ProbeErrors

ProcessSort = Literal["cpu", "memory"]
# The first reading (or one after a long pause) is compared with a second taken this much later:
# a request waits at most this long, once; later requests compare with the previous request's times.
PRIME_INTERVAL_S = 0.1
# Readings older than this describe the past, not now: take a fresh pair instead.
STALE_AFTER_S = 60.0
PROBE = "processes"  # the process table's name among the probe faults (/metrics, /api/v2/sampler)
_ATTRS = ["pid", "name", "username", "memory_info", "status", "cpu_times", "create_time"]


class ProcessesUnreadable(Exception):
    """The process table could not be read at all (e.g. /proc is not mounted); the message says why."""


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One process: cpu percent since the previous reading (100 = one core), resident memory."""

    pid: int
    name: str
    user: str | None
    cpu_percent: float
    memory_rss: int
    state: str
    cmdline: list[str] | None = None


class ProcessTable:
    """Reads every process; cpu percent is computed against the cpu times of the previous reading."""

    def __init__(
        self,
        *,
        errors: ProbeErrors | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()  # one reading at a time: each replaces the previous times
        self._times: dict[tuple[int, float], float] = {}  # (pid, create_time) -> user+system cpu s
        self._read_at: float | None = None
        # Readings that failed as a whole count with the sampler's probe faults (one counter).
        self.errors = errors if errors is not None else ProbeErrors()

    def top(self, sort: ProcessSort, limit: int, *, cmdline: bool = False) -> list[ProcessInfo]:
        """The `limit` processes using the most cpu or memory; `cmdline` read only when asked."""
        with self._lock:
            try:
                if self._read_at is None or self._monotonic() - self._read_at > STALE_AFTER_S:
                    self._read()
                    self._sleep(PRIME_INTERVAL_S)
                rows = self._read()
            except (psutil.Error, OSError) as exc:  # a single process gone is skipped inside _read
                self.errors.record(PROBE, exc, time.time())  # logged there, once per run of failures
                raise ProcessesUnreadable(f"{type(exc).__name__}: {exc}") from exc
            self.errors.record_ok(PROBE)
        if sort == "cpu":
            rows.sort(key=lambda p: (p.cpu_percent, p.memory_rss), reverse=True)
        else:
            rows.sort(key=lambda p: (p.memory_rss, p.cpu_percent), reverse=True)
        if not cmdline:
            return rows[:limit]
        shown: list[ProcessInfo] = []
        for row in rows:
            if len(shown) == limit:
                break
            found = with_cmdline(row)
            if found is not None:
                shown.append(found)
        return shown

    def _read(self) -> list[ProcessInfo]:
        """Every live process now; the cpu times are kept for the next reading."""
        now = self._monotonic()
        span = None if self._read_at is None else now - self._read_at
        times: dict[tuple[int, float], float] = {}
        rows: list[ProcessInfo] = []
        # process_iter skips a process that exits while it is read; a field we may not read is None.
        for proc in psutil.process_iter(_ATTRS, ad_value=None):
            info = proc.info
            cpu = info["cpu_times"]
            mem = info["memory_info"]
            if cpu is None or mem is None:
                continue  # a zombie or a process gone between the fields: nothing to show
            key = (info["pid"], info["create_time"] or 0.0)
            total = cpu.user + cpu.system
            times[key] = total
            before = self._times.get(key)
            pct = 0.0 if before is None or not span else max(0.0, (total - before) / span * 100)
            rows.append(
                ProcessInfo(
                    pid=info["pid"],
                    name=info["name"] or "",
                    user=info["username"],
                    cpu_percent=round(pct, 1),
                    memory_rss=mem.rss,
                    state=info["status"] or "unknown",
                )
            )
        self._times, self._read_at = times, now
        return rows


def with_cmdline(row: ProcessInfo) -> ProcessInfo | None:
    """`row` with its command line; None when the process has exited since it was read."""
    try:
        proc = psutil.Process(row.pid)
        argv = proc.cmdline()
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        argv = []
    return dataclasses.replace(row, cmdline=argv)
