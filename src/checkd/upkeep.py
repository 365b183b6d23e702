"""Upkeep: one thread that folds new checks into rollups and prunes each tier past its retention.

Where the backend partitions checks by time (PostgreSQL), it also creates the partitions ahead
and retention drops whole days; what no partition covers is deleted row by row."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Engine

from checkd import store
from checkd.config import RetentionSettings
from checkd.store.backends import backend_for
from checkd.store.rollups import HOUR, MINUTE

log = logging.getLogger(__name__)

FOLD_EVERY_S = 60.0  # folding amortizes its ~10 statements over a minute of checks
PRUNE_EVERY_S = 3600.0
BEHIND_AFTER_ROUNDS = 3  # no complete fold for this many rounds: upkeep is behind
UpkeepHealth = Literal["ok", "failing", "behind"]


@dataclass(frozen=True)
class UpkeepStatus:
    """A snapshot of the upkeep thread for the API and /metrics."""

    running: bool
    health: UpkeepHealth
    fold_every_s: float
    folded_total: int
    deleted_total: int
    errors_total: int
    last_error: str | None
    last_fold_at: float | None
    fold_lag_s: float | None
    last_prune_at: float | None


class Upkeep:
    """Folds new raw checks into rollups every `fold_every_s`, and prunes tiers every `prune_every_s`.

    Both work in paced transactions (store.Pacer), so the sampler's writes get the lock in between."""

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
        self.last_fold_at: float | None = None
        self.last_prune_at: float | None = None
        self._failing = False
        self._started_at: float | None = None
        self._fold_pacer = store.Pacer(start=5000)
        self._prune_pacer = store.Pacer(start=5000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fold(self) -> int:
        """Fold every check not yet in the rollups, in paced transactions; return how many."""

        def step(conn: Connection, batch: int) -> int:
            return store.fold_new_checks(conn=conn, host=self.host, batch=batch)

        def committed(rows: int) -> None:  # counted as each transaction commits: progress shows
            self.folded_total += rows

        folded = self._fold_pacer.run(self.engine, step, stop=self._stop.is_set, committed=committed)
        if not self._stop.is_set():
            self.last_fold_at = self.clock()
        return folded

    def make_partitions(self) -> int:
        """Create the time partitions of today and the next days that are missing; return how many."""
        with self.engine.begin() as conn:
            return backend_for(self.engine).make_partitions(conn, int(self.clock()))

    def prune(self) -> int:
        """Delete raw checks and rollups older than their tier's retention; return rows deleted.

        Whole partitions first, a step per transaction (detached, then dropped: writers never wait
        for the files to go), then row by row what no partition holds."""
        now = int(self.clock())
        cutoff = now - self.retention.seconds("raw")
        backend = backend_for(self.engine)
        deleted = 0
        while not self._stop.is_set():
            with self.engine.begin() as conn:
                dropped = backend.drop_partition(conn, cutoff)
            if dropped is None:
                break
            deleted += dropped
        with self.engine.begin() as conn:
            hid = store.host_id(conn=conn, name=self.host, create=False)
            folded_up_to = store.watermark(conn=conn, host_id=hid) if hid is not None else 0
            rows_before = backend.row_cutoff(conn, cutoff)

        def step(conn: Connection, batch: int) -> int:
            # Never delete raw checks that are not yet in the rollups.
            return store.delete_checks_before(
                conn=conn,
                host=self.host,
                cutoff=rows_before,
                max_id=folded_up_to,
                batch=batch,
            )

        deleted += self._prune_pacer.run(self.engine, step, stop=self._stop.is_set)
        with self.engine.begin() as conn:
            for tier, name in ((MINUTE, "minute"), (HOUR, "hour")):
                deleted += store.delete_rollups_before(
                    conn=conn,
                    host=self.host,
                    tier=tier,
                    cutoff=now - self.retention.seconds(name),  # type: ignore[arg-type]
                )
        self.deleted_total += deleted
        self.last_prune_at = self.clock()
        if deleted:
            log.info("upkeep deleted %d rows past their retention", deleted)
        return deleted

    def status(self) -> UpkeepStatus:
        """The thread's counters and health now: failing after a failed round, behind when no
        fold completed for BEHIND_AFTER_ROUNDS rounds."""
        thread = self._thread
        running = thread is not None and thread.is_alive() and not self._stop.is_set()
        now = self.clock()
        since = self.last_fold_at if self.last_fold_at is not None else self._started_at
        lag = None if since is None else max(0.0, now - since)
        health: UpkeepHealth = "ok"
        if self._failing:
            health = "failing"
        elif running and lag is not None and lag > BEHIND_AFTER_ROUNDS * self.fold_every_s:
            health = "behind"
        return UpkeepStatus(
            running=running,
            health=health,
            fold_every_s=self.fold_every_s,
            folded_total=self.folded_total,
            deleted_total=self.deleted_total,
            errors_total=self.errors_total,
            last_error=self.last_error,
            last_fold_at=self.last_fold_at,
            fold_lag_s=None if self.last_fold_at is None else lag,
            last_prune_at=self.last_prune_at,
        )

    def run_once(self, *, prune: bool) -> None:
        """One round: partitions ahead, fold, then prune when `prune`; a failure is counted and kept
        in `last_error`."""
        try:
            self.make_partitions()
            self.fold()
            if prune:
                self.prune()
            self._failing = False
        except Exception as exc:  # retried at the next round; counted and visible
            self.errors_total += 1
            self._failing = True
            self.last_error = f"upkeep failed: {type(exc).__name__}: {exc}".splitlines()[0]
            log.error("%s", self.last_error)

    def _run(self) -> None:
        next_prune = 0.0
        while not self._stop.is_set():
            prune = time.monotonic() >= next_prune
            self.run_once(prune=prune)
            if prune and not self._failing:
                next_prune = time.monotonic() + self.prune_every_s
            self._stop.wait(self.fold_every_s)

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._started_at = self.clock()
            self._thread = threading.Thread(target=self._run, name="checkd-upkeep", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop and join the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
