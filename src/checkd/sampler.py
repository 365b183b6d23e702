"""The sampler: one thread per process, stopped by an Event, drift-free cadence, write-behind queue."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from checkd import store
from checkd.probes import Check, CheckProbe, ProbeFailure

log = logging.getLogger(__name__)

CheckListener = Callable[[Check], None]
QUEUE_SECONDS = 3600  # the write-behind queue holds at least this much time of checks
_MAX_BATCH = 500
_RETRY_MIN_S = 0.5


@dataclass(frozen=True)
class SamplerStatus:
    """A snapshot of the sampler for the API and /metrics."""

    running: bool
    interval_s: int
    last_check_at: float | None
    checks_total: int
    errors_total: int
    last_error: str | None
    probe_errors_total: int
    write_errors_total: int
    pending_writes: int
    dropped_total: int
    missed_slots_total: int
    failing: bool
    probe_failures: tuple[ProbeFailure, ...] = ()  # probes failing on every recent check


class Sampler:
    """Takes a check now and then every `interval_s` seconds, and writes it to the store in order."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        probe: CheckProbe,
        interval_s: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.host = host
        self._writer = store.CheckWriter(engine=engine, host=host)
        self.probe = probe
        self._interval = interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()  # guards start/stop and the counters below
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._queue: deque[Check] = deque(maxlen=self._capacity(interval_s))
        self._listeners: list[CheckListener] = []
        self._written_listeners: list[CheckListener] = []
        self.latest: Check | None = None
        self.last_check_at: float | None = None
        self.checks_total = 0
        self.write_errors_total = 0
        self.dropped_total = 0
        self.missed_slots_total = 0
        self.last_error: str | None = None
        self._write_failing = False

    @staticmethod
    def _capacity(interval_s: int) -> int:
        return math.ceil(QUEUE_SECONDS / interval_s) + 1

    def on_check(self, listener: CheckListener) -> None:
        """Call `listener` with each check as soon as it is taken (before it is stored)."""
        self._listeners.append(listener)

    def on_written(self, listener: CheckListener) -> None:
        """Call `listener` with each check once it is stored (it then has an id)."""
        self._written_listeners.append(listener)

    @property
    def running(self) -> bool:
        """True while the sampling thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    @property
    def interval_s(self) -> int:
        """Seconds between checks."""
        return self._interval

    def start(self) -> bool:
        """Start the thread; False (and nothing else happens) when it already runs."""
        with self._lock:
            if self.running:
                return False
            if self._thread is not None:
                self._thread.join()
            self._stop.clear()
            self._wake.clear()
            self._thread = threading.Thread(target=self._run, name="checkd-sampler", daemon=True)
            self._thread.start()
            log.info("sampler started, interval %ss", self._interval)
            return True

    def stop(self, timeout: float | None = None) -> bool:
        """Stop and join the thread, flushing what it took; False when it was not running."""
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return False
            self._stop.set()
            self._wake.set()
        thread.join(timeout)
        log.info("sampler stopped")
        return True

    def set_interval(self, interval_s: int) -> None:
        """Change the cadence; the next check comes `interval_s` after the previous one."""
        with self._lock:
            self._interval = interval_s
            self._queue = deque(self._queue, maxlen=max(self._capacity(interval_s), len(self._queue)))
        self._wake.set()

    def status(self) -> SamplerStatus:
        """The sampler's state and counters now."""
        probe_errors = self.probe.errors.total
        last_error = self.last_error if self._write_failing else (self.probe.errors.last or self.last_error)
        running = self.running
        overdue = (
            running
            and self.last_check_at is not None
            and time.time() - self.last_check_at > 2 * self._interval + 5
        )
        return SamplerStatus(
            running=running,
            interval_s=self._interval,
            last_check_at=self.last_check_at,
            checks_total=self.checks_total,
            errors_total=probe_errors + self.write_errors_total + self.dropped_total,
            last_error=last_error,
            probe_errors_total=probe_errors,
            write_errors_total=self.write_errors_total,
            pending_writes=len(self._queue),
            dropped_total=self.dropped_total,
            missed_slots_total=self.missed_slots_total,
            failing=self._write_failing or bool(overdue),
            probe_failures=tuple(self.probe.errors.failing()),
        )

    def sample_once(self) -> Check:
        """Take one check, queue it and try to write the queue; used by the loop."""
        check = self.probe.take_check()
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped_total += 1
                log.error("write queue full (%d checks); dropping the oldest", len(self._queue))
            self._queue.append(check)
            self.checks_total += 1
            self.latest = check
            self.last_check_at = check.taken_at
        for listener in self._listeners:
            listener(check)
        self.flush()
        return check

    def flush(self) -> bool:
        """Write queued checks in order; True when the queue is empty afterwards."""
        while self._queue:
            batch = list(self._queue)[:_MAX_BATCH]
            try:
                self._writer.write(batch)
            except Exception as exc:  # any DB fault: keep the checks, count it, retry later
                for check in batch:
                    check.id = None
                self.write_errors_total += 1
                self.last_error = f"database write failed: {type(exc).__name__}: {exc}".splitlines()[0]
                if not self._write_failing:
                    log.error("%s; %d checks wait in memory", self.last_error, len(self._queue))
                self._write_failing = True
                return False
            with self._lock:
                for _ in batch:
                    self._queue.popleft()
            if self._write_failing:
                log.warning("database writes recovered")
                self._write_failing = False
            for check in batch:
                for listener in self._written_listeners:
                    listener(check)
        return True

    def release_connection(self) -> None:
        """Close the writer's held connection now (the next write opens a new one)."""
        self._writer.close()

    def close(self) -> bool:
        """Write what is queued and release the writer's connection; True when nothing is left."""
        flushed = self.flush()
        self._writer.close()
        return flushed

    def _next_slot(self, slot: float, now: float) -> float:
        """The first slot after `slot` that is still ahead; passed-over slots are counted, not bunched."""
        interval = self._interval
        nxt = slot + interval
        if nxt > now:
            return nxt
        skipped = math.floor((now - nxt) / interval) + 1
        self.missed_slots_total += skipped
        return nxt + skipped * interval

    def _run(self) -> None:
        slot = self._monotonic()
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # never let the loop die: log it and keep the cadence
                log.exception("check failed")
            taken, slot = slot, self._next_slot(slot, self._monotonic())
            while not self._stop.is_set():
                wait = slot - self._monotonic()
                if wait <= 0:
                    break
                if self._queue:
                    wait = min(wait, max(_RETRY_MIN_S, min(self._interval / 4, 5.0)))
                if self._wake.wait(wait):
                    self._wake.clear()
                    # The interval changed: the next check is one new interval after the last one.
                    slot = max(taken + self._interval, self._monotonic())
                if self._queue and not self._stop.is_set():
                    self.flush()
        self.close()
