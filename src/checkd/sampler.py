"""The sampler: a probe thread on a drift-free cadence, and a writer thread behind a bounded queue."""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from checkd import store
from checkd.cadence import next_slot
from checkd.probes import Check, CheckProbe, ProbeFailure

log = logging.getLogger(__name__)

CheckListener = Callable[[Check], None]
QUEUE_SECONDS = 3600  # the write-behind queue holds at least this much time of checks
# A write may wait this long for another writer's lock (an import, the fold) before it counts as
# failing; until then it is retried, and a write that waited and then succeeded is no error.
LOCK_PATIENCE_S = 30.0
_STOP_PATIENCE_S = 5.0  # the same while stopping: shutdown must not hang on a held lock
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
    pending_writes_max: int = 0  # most checks queued at once since start
    longest_write_wait_s: float = 0.0  # longest write since start, lock waits included


class Sampler:
    """Takes a check now and then every `interval_s` seconds; a writer thread stores them in order.

    Taking a check never waits on the database: the probe thread only queues it, and the writer
    thread writes the queue. A slow or locked database makes the queue grow, within its bound."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        probe: CheckProbe,
        interval_s: int,
        monotonic: Callable[[], float] = time.monotonic,
        lock_patience_s: float = LOCK_PATIENCE_S,
    ) -> None:
        self.engine = engine
        self.lock_patience_s = lock_patience_s
        self.host = host
        self._writer = store.CheckWriter(engine=engine, host=host)
        self.probe = probe
        self._interval = interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()  # guards start/stop, the queue and the counters below
        self._flush_lock = threading.Lock()  # one flush at a time: the writer thread or close()
        self._thread: threading.Thread | None = None
        self._writer_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._write_stop = threading.Event()
        self._queued = threading.Event()  # wakes the writer thread
        self._queue: deque[Check] = deque(maxlen=self._capacity(interval_s))
        self._listeners: list[CheckListener] = []
        self._written_listeners: list[CheckListener] = []
        self.latest: Check | None = None
        self.last_check_at: float | None = None
        self.checks_total = 0
        self.write_errors_total = 0
        self.dropped_total = 0
        self.missed_slots_total = 0
        self.pending_writes_max = 0
        self.longest_write_wait_s = 0.0
        self.last_error: str | None = None
        self._write_failing = False
        self._waiting_since: float | None = None  # first attempt of the batch now waiting for a lock

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
        """Start the probe and writer threads; False (and nothing else happens) when they run."""
        with self._lock:
            if self.running:
                return False
            for old in (self._thread, self._writer_thread):
                if old is not None:
                    old.join()
            self._stop.clear()
            self._wake.clear()
            self._write_stop.clear()
            self._writer_thread = threading.Thread(target=self._write_loop, name="checkd-writer", daemon=True)
            self._writer_thread.start()
            self._thread = threading.Thread(target=self._run, name="checkd-sampler", daemon=True)
            self._thread.start()
            log.info("sampler started, interval %ss", self._interval)
            return True

    def stop(self, timeout: float | None = None) -> bool:
        """Stop and join both threads, the writer after flushing what was taken; False when not running."""
        with self._lock:
            thread, writer = self._thread, self._writer_thread
            if thread is None or not thread.is_alive():
                return False
            self._stop.set()
            self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        thread.join(timeout)
        # Only now: the writer's last flush then holds the probe thread's last check.
        self._write_stop.set()
        self._queued.set()
        if writer is not None:
            writer.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
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
            pending_writes_max=self.pending_writes_max,
            longest_write_wait_s=self.longest_write_wait_s,
        )

    def sample_once(self) -> Check:
        """Take one check and queue it for the writer thread (never waits on the database)."""
        check = self.probe.take_check()
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped_total += 1
                log.error("write queue full (%d checks); dropping the oldest", len(self._queue))
            self._queue.append(check)
            self.pending_writes_max = max(self.pending_writes_max, len(self._queue))
            self.checks_total += 1
            self.latest = check
            self.last_check_at = check.taken_at
        self._queued.set()
        for listener in self._listeners:
            listener(check)
        return check

    def flush(self) -> bool:
        """Write queued checks in order; True when the queue is empty afterwards.

        A write that waits for another writer's lock is retried (each try waits a few ms in the
        database's busy handler) for up to LOCK_PATIENCE_S before it counts as a failed write."""
        with self._flush_lock:
            while self._queue:
                with self._lock:
                    batch = list(itertools.islice(self._queue, _MAX_BATCH))
                started = self._waiting_since if self._waiting_since is not None else time.monotonic()
                try:
                    self._writer.write(batch)
                except Exception as exc:  # any DB fault: keep the checks, count it, retry later
                    for check in batch:
                        check.id = None
                    if self._writer.is_lock_wait(exc) and self._wait_more(started):
                        continue
                    self._waiting_since = None
                    self._writer.stop_waiting()
                    self._write_failed(exc)
                    return False
                self._waiting_since = None
                self._written(batch, time.monotonic() - started)
            return True

    def _wait_more(self, started: float) -> bool:
        """Whether a write that found the lock taken, first tried at `started`, tries again."""
        self._waiting_since = started
        patience = _STOP_PATIENCE_S if self._write_stop.is_set() else self.lock_patience_s
        return time.monotonic() - started < patience

    def _write_failed(self, exc: Exception) -> None:
        self.write_errors_total += 1
        self.last_error = f"database write failed: {type(exc).__name__}: {exc}".splitlines()[0]
        if not self._write_failing:
            log.error("%s; %d checks wait in memory", self.last_error, len(self._queue))
        self._write_failing = True

    def _written(self, batch: list[Check], waited: float) -> None:
        written = {id(c) for c in batch}
        with self._lock:
            # A check dropped from a full queue while its batch was written is already gone.
            while self._queue and id(self._queue[0]) in written:
                self._queue.popleft()
            self.longest_write_wait_s = max(self.longest_write_wait_s, waited)
        if self._write_failing:
            log.warning("database writes recovered")
            self._write_failing = False
        for check in batch:
            for listener in self._written_listeners:
                listener(check)

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
        nxt, skipped = next_slot(slot, now, self._interval)
        self.missed_slots_total += skipped
        return nxt

    def _run(self) -> None:
        """The probe thread: one check per slot, queued; it never touches the database."""
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
                if self._wake.wait(wait):
                    self._wake.clear()
                    # The interval changed: the next check is one new interval after the last one.
                    slot = max(taken + self._interval, self._monotonic())

    def _write_loop(self) -> None:
        """The writer thread: write whatever is queued; while writes fail, retry every few seconds."""
        while True:
            retry = max(_RETRY_MIN_S, min(self._interval / 4, 5.0)) if self._queue else None
            self._queued.wait(retry)
            self._queued.clear()
            stopping = self._write_stop.is_set()
            if self._queue:
                try:
                    self.flush()
                except Exception:  # never let the writer die; the queue is retried
                    log.exception("write failed")
            if stopping:
                break
        self._writer.close()
