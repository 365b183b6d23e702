"""WriteBacklog: writes that must reach the database, kept in order in memory while it fails, retried."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

Write = Callable[[Connection], object]  # one write, run in its own transaction
RETRY_EVERY_S = 2.0


@dataclass(frozen=True)
class BacklogStatus:
    """What waits for the database, what was lost, and the last failure."""

    pending: int
    dropped_total: int
    errors_total: int
    last_error: str | None


class WriteBacklog:
    """Runs each write in its own transaction, in submission order; a failed one (and all after it)
    waits in a bounded queue, retried every `retry_s` by a thread that lives only while it waits.

    `coalesce`: the newest write supersedes the waiting ones (for a write that saves the current
    state, not an event); otherwise, when the queue is full, the oldest is dropped and counted."""

    def __init__(
        self,
        *,
        engine: Engine,
        what: str,
        capacity: int,
        coalesce: bool = False,
        retry_s: float = RETRY_EVERY_S,
    ) -> None:
        self.engine = engine
        self.what = what
        self.capacity = capacity
        self.coalesce = coalesce
        self.retry_s = retry_s
        self.dropped_total = 0
        self.errors_total = 0
        self.last_error: str | None = None
        self._queue: deque[Write] = deque()
        self._lock = threading.Lock()  # guards the queue and the retry thread
        self._flushing = threading.Lock()  # one writer at a time keeps the order
        self._closed = threading.Event()
        self._retrier: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Writes waiting for the database."""
        return len(self._queue)

    def status(self) -> BacklogStatus:
        """Counters now."""
        return BacklogStatus(self.pending, self.dropped_total, self.errors_total, self.last_error)

    def submit(self, write: Write) -> str | None:
        """Queue `write` behind the waiting ones and try them all now; None when done, else why not."""
        with self._lock:
            if self.coalesce:
                self._queue.clear()
            elif len(self._queue) >= self.capacity:
                self._queue.popleft()
                self.dropped_total += 1
                log.error("%s: %d writes wait already; dropped the oldest", self.what, self.capacity)
            self._queue.append(write)
        if self.flush():
            return None
        self._retry_later()
        return self.last_error or "database write failed"

    def flush(self) -> bool:
        """Run the waiting writes in order; True when none is left."""
        with self._flushing:
            while self._queue:
                write = self._queue[0]
                try:
                    with self.engine.begin() as conn:
                        write(conn)
                except Exception as exc:  # any database fault: keep it and the rest, retry later
                    first = self.last_error is None
                    self.errors_total += 1
                    self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    if first:  # once per outage, not at every retry
                        log.error("%s not saved, retried every %.0fs: %s", self.what, self.retry_s, exc)
                    return False
                with self._lock:
                    if self._queue and self._queue[0] is write:  # not dropped or superseded meanwhile
                        self._queue.popleft()
                    if not self._queue and self.last_error is not None:
                        log.warning("%s saved again after a database outage", self.what)
                        self.last_error = None
        return True

    def _retry_later(self) -> None:
        with self._lock:
            if self._retrier is None and not self._closed.is_set():
                self._retrier = threading.Thread(target=self._retry, name="checkd-backlog", daemon=True)
                self._retrier.start()

    def _retry(self) -> None:
        while not self._closed.wait(self.retry_s):
            self.flush()
            with self._lock:
                if not self._queue:
                    self._retrier = None
                    return

    def close(self) -> bool:
        """Stop retrying after one last try; True when nothing is left unwritten."""
        self._closed.set()
        with self._lock:
            retrier = self._retrier
        if retrier is not None:
            retrier.join(10)
        done = self.flush()
        if not done:
            log.error("%d %s writes were never saved: %s", self.pending, self.what, self.last_error)
        return done
