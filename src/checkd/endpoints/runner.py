"""EndpointRunner: each endpoint check on its own schedule, run in a small worker pool.

The sampler never waits for it: it reads `latest()`, a snapshot replaced whenever a run ends."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from checkd.probes.readings import EndpointResult

log = logging.getLogger(__name__)

MAX_WORKERS = 4  # runs at once; a check has at most one run in flight


class EndpointProbe(Protocol):
    """One endpoint check's runner (http.HttpProbe, tcp.TcpProbe)."""

    kind: str

    def run(self) -> EndpointResult:
        """One run; never raises (a failure is a down result)."""

    def close(self) -> None:
        """Release what is held between runs."""


@dataclass(frozen=True)
class EndpointCheck:
    """A configured endpoint check: its name, kind, target (URL or host:port) and interval."""

    name: str
    kind: str
    target: str
    interval_s: float
    probe: EndpointProbe


@dataclass(frozen=True)
class RunnerStatus:
    """Counters of the runner since start."""

    runs_total: int
    cpu_seconds_total: float  # CPU the worker threads spent in runs (network waits excluded)
    skipped_total: int  # slots skipped because the previous run of that check had not ended
    errors_total: int  # runs that raised (a defect): reported as down with the error


class EndpointRunner:
    """Runs each check every `interval_s` (drift-free), at most one run per check at a time."""

    def __init__(
        self,
        checks: Sequence[EndpointCheck],
        *,
        workers: int = MAX_WORKERS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.checks = list(checks)
        self._workers = max(1, min(workers, len(self.checks)))
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._results: dict[str, EndpointResult] = {}
        self._snapshot: tuple[EndpointResult, ...] = ()
        self._in_flight: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.runs_total = 0
        self.cpu_seconds_total = 0.0
        self.skipped_total = 0
        self.errors_total = 0

    def latest(self) -> list[EndpointResult]:
        """The newest result of each check that has run (config order); never waits for a run."""
        return list(self._snapshot)

    def result(self, name: str) -> EndpointResult | None:
        """The newest result of the check `name`, or None before its first run."""
        return self._results.get(name)

    def status(self) -> RunnerStatus:
        """A snapshot of the counters."""
        with self._lock:
            return RunnerStatus(
                self.runs_total, self.cpu_seconds_total, self.skipped_total, self.errors_total
            )

    def start(self) -> None:
        """Start the scheduler thread and the pool (no-op without checks or when started)."""
        if not self.checks or self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="checkd-endpoint")
        self._thread = threading.Thread(target=self._schedule, name="checkd-endpoints", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop scheduling; a run in flight ends at its own timeout (not waited for) and then closes
        its probe, the others are closed now."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        with self._lock:
            idle = [c for c in self.checks if c.name not in self._in_flight]
        for check in idle:
            check.probe.close()

    def _schedule(self) -> None:
        """The scheduler thread: submit each check at its slot; skip a slot whose last run is in flight."""
        now = self._monotonic()
        due = {c.name: now for c in self.checks}
        while not self._stop.is_set():
            now = self._monotonic()
            for check in self.checks:
                slot = due[check.name]
                if slot > now:
                    continue
                missed = int((now - slot) // check.interval_s)  # slots that passed unseen
                due[check.name] = slot + (missed + 1) * check.interval_s
                with self._lock:
                    busy = check.name in self._in_flight
                    self.skipped_total += missed + busy
                    if not busy:
                        self._in_flight.add(check.name)
                if not busy:
                    assert self._pool is not None
                    self._pool.submit(self._run, check)
            wait = min(due.values()) - self._monotonic()
            if wait > 0 and self._wake.wait(wait):
                self._wake.clear()

    def _run(self, check: EndpointCheck) -> None:
        """A worker: one run, its CPU counted; the snapshot replaced with the new result."""
        cpu = time.thread_time()
        failed = False
        try:
            result = check.probe.run()
        except Exception as exc:  # a defect in a probe must not kill the worker or the schedule
            log.exception("endpoint check %s raised", check.name)
            failed = True
            result = EndpointResult(
                name=check.name,
                kind=check.kind,
                up=False,
                checked_at=time.time(),
                error=f"internal error: {type(exc).__name__}: {exc}",
            )
        spent = time.thread_time() - cpu
        with self._lock:
            before = self._results.get(check.name)
            self._results[check.name] = result
            self._snapshot = tuple(self._results[c.name] for c in self.checks if c.name in self._results)
            self._in_flight.discard(check.name)
            self.runs_total += 1
            self.cpu_seconds_total += spent
            self.errors_total += failed
            stopped = self._stop.is_set()
        if stopped:  # stop() left this probe open for this run: close it now, quietly
            check.probe.close()
            return
        if before is None or before.up != result.up:
            how = "up" if result.up else f"down: {result.error}"
            log.log(logging.INFO if result.up else logging.WARNING, "endpoint %s is %s", check.name, how)
