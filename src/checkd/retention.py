"""Background retention: deletes raw checks older than `retention.raw`, in small batches."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from checkd import store

log = logging.getLogger(__name__)

RUN_EVERY_S = 3600.0
_BATCH = 5000


class Retention:
    """Runs `prune` at start and then every `every_s` seconds in its own thread."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        raw_s: int,
        every_s: float = RUN_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.host = host
        self.raw_s = raw_s
        self.every_s = every_s
        self.clock = clock
        self.deleted_total = 0
        self.errors_total = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prune(self) -> int:
        """Delete this host's raw checks older than the raw retention; return how many went."""
        cutoff = int(self.clock()) - self.raw_s
        deleted = 0
        while not self._stop.is_set():
            # Small transactions: the sampler's writes never wait long behind a prune.
            with self.engine.begin() as conn:
                n = store.delete_checks_before(conn=conn, host=self.host, cutoff=cutoff, batch=_BATCH)
            deleted += n
            if n < _BATCH:
                break
        self.deleted_total += deleted
        if deleted:
            log.info("retention deleted %d checks older than %ds", deleted, self.raw_s)
        return deleted

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.prune()
            except Exception as exc:  # a failed prune is retried at the next run
                self.errors_total += 1
                self.last_error = f"retention failed: {type(exc).__name__}: {exc}".splitlines()[0]
                log.error("%s", self.last_error)
            self._stop.wait(self.every_s)

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="checkd-retention", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop and join the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
