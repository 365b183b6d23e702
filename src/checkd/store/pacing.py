"""Sharing the write lock: bulk writers in time-bounded transactions, paused where the backend says."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from checkd.store.backends import backend_for
from checkd.store.write_turn import WriteTurn

# One bulk transaction holds SQLite's write lock for about this long; the sampler's write waits
# at most this, so two stored checks stay well within 1.5 intervals of each other at 1 s.
TX_BUDGET_S = 0.1
# The pause after each bulk transaction: longer than the longest sleep of the sampler writer's
# busy handler (WRITER_BUSY_TIMEOUT_MS), so a waiting write always gets the lock in between.
PAUSE_S = 0.006
# The sampler writer's SQLite busy timeout: its handler retries at 0, 1, 3 and 4 ms, then the
# writer calls again at once; a write that waits is retried, not failed (see Sampler.flush).
WRITER_BUSY_TIMEOUT_MS = 4
# A bulk job whose step costs the same in pieces (the import's inserts; not the fold, which reads
# back an hour of checks per call) runs each transaction in this many, and commits after the piece
# during which a write began to wait (store.write_turn): a loaded machine stretches a transaction's
# wall time, and the waiting write then waits for a piece, not the whole.
PIECES = 8

Step = Callable[[Connection, int], int]


class Pacer:
    """Runs a bulk job as a series of transactions of about `budget_s` each, pausing between them.

    The batch size adapts: after each full batch it is scaled so that the next transaction takes
    about `budget_s`. Each transaction begins as the backend says (SQLite: BEGIN IMMEDIATE), and
    where the backend has one write lock the job pauses after each, so the sampler's write gets in."""

    def __init__(
        self,
        *,
        start: int = 1000,
        minimum: int = 50,
        maximum: int = 200_000,
        budget_s: float = TX_BUDGET_S,
        pause_s: float = PAUSE_S,
        pieces: int = 1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.batch = start
        self.pieces = pieces
        self.minimum = minimum
        self.maximum = maximum
        self.budget_s = budget_s
        self.pause_s = pause_s
        self.sleep = sleep
        self.transactions = 0
        self.longest_s = 0.0

    def _adapt(self, rows: int, elapsed: float) -> None:
        scaled = int(rows * self.budget_s / max(elapsed, 1e-4))
        # Grow gently, shrink at once: one slow transaction already cost the sampler its wait.
        self.batch = max(self.minimum, min(self.maximum, scaled, 2 * self.batch))

    def run(
        self,
        engine: Engine,
        step: Step,
        *,
        stop: Callable[[], bool] = lambda: False,
        committed: Callable[[int], None] = lambda _rows: None,
    ) -> int:
        """Call `step(conn, batch)` in its own transaction until it returns fewer than `batch` rows
        (or `stop()` is true), and `committed(rows)` after each commit; return the rows in all."""
        total = 0
        backend = backend_for(engine)
        turn = WriteTurn.of(engine)
        try:
            while not stop():
                batch = self.batch
                turn.pass_through()  # a write waiting for the lock goes first
                started = time.monotonic()
                with engine.connect() as conn:
                    backend.begin_bulk(conn)
                    rows, done = self._transaction(conn, step, batch, turn)
                    conn.commit()
                committed(rows)
                elapsed = time.monotonic() - started
                self.transactions += 1
                self.longest_s = max(self.longest_s, elapsed)
                total += rows
                if done:
                    break
                self._adapt(rows, elapsed)
                if backend.bulk_pauses:
                    self.sleep(self.pause_s)
        finally:
            turn.close()
        return total

    def _transaction(self, conn: Connection, step: Step, batch: int, turn: WriteTurn) -> tuple[int, bool]:
        """Up to `batch` rows of `step`, in pieces, fewer when a write waits; (rows, whether all is done)."""
        piece = math.ceil(batch / self.pieces) if turn.path is not None else batch
        rows = 0
        while rows < batch:
            want = min(piece, batch - rows)
            got = step(conn, want)
            rows += got
            if got < want:
                return rows, True  # a partial step: nothing is left
            if turn.waiting():
                break
        return rows, False
