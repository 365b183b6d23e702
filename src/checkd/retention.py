"""Background upkeep: folds new checks into rollups, and prunes each tier past its retention."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from checkd import store
from checkd.config import RetentionSettings
from checkd.store.rollups import HOUR, MINUTE

log = logging.getLogger(__name__)

FOLD_EVERY_S = 60.0  # folding amortizes its ~10 statements over a minute of checks
PRUNE_EVERY_S = 3600.0
_BATCH = 5000


class Retention:
    """One thread: fold new raw checks into rollups every few seconds, prune tiers hourly."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        retention: RetentionSettings,
        fold_every_s: float = FOLD_EVERY_S,
        prune_every_s: float = PRUNE_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.host = host
        self.retention = retention
        self.fold_every_s = fold_every_s
        self.prune_every_s = prune_every_s
        self.clock = clock
        self.folded_total = 0
        self.deleted_total = 0
        self.errors_total = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fold(self) -> int:
        """Fold every check not yet in the rollups, in small transactions; return how many."""
        folded = 0
        while not self._stop.is_set():
            with self.engine.begin() as conn:
                n = store.fold_new_checks(conn=conn, host=self.host, batch=_BATCH)
            folded += n
            if n < _BATCH:
                break
        self.folded_total += folded
        return folded

    def prune(self) -> int:
        """Delete raw checks and rollups older than their tier's retention; return rows deleted."""
        now = int(self.clock())
        deleted = 0
        with self.engine.begin() as conn:
            hid = store.host_id(conn=conn, name=self.host, create=False)
            folded_up_to = store.watermark(conn=conn, host_id=hid) if hid is not None else 0
        while not self._stop.is_set():
            # Small transactions, so the sampler's writes never wait long; never delete raw checks
            # that are not yet in the rollups.
            with self.engine.begin() as conn:
                n = store.delete_checks_before(
                    conn=conn,
                    host=self.host,
                    cutoff=now - self.retention.seconds("raw"),
                    max_id=folded_up_to,
                    batch=_BATCH,
                )
            deleted += n
            if n < _BATCH:
                break
        with self.engine.begin() as conn:
            for tier, name in ((MINUTE, "minute"), (HOUR, "hour")):
                deleted += store.delete_rollups_before(
                    conn=conn,
                    host=self.host,
                    tier=tier,
                    cutoff=now - self.retention.seconds(name),  # type: ignore[arg-type]
                )
        self.deleted_total += deleted
        if deleted:
            log.info("retention deleted %d rows past their retention", deleted)
        return deleted

    def _run(self) -> None:
        next_prune = 0.0
        while not self._stop.is_set():
            try:
                self.fold()
                if time.monotonic() >= next_prune:
                    self.prune()
                    next_prune = time.monotonic() + self.prune_every_s
            except Exception as exc:  # retried at the next round; counted and visible
                self.errors_total += 1
                self.last_error = f"upkeep failed: {type(exc).__name__}: {exc}".splitlines()[0]
                log.error("%s", self.last_error)
            self._stop.wait(self.fold_every_s)

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="checkd-upkeep", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop and join the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
