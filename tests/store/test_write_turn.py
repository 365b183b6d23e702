"""checkd.store.write_turn on real SQLite files: a write that waits goes before the bulk writer's next
transaction, and an import's transaction commits early when one waits.

Both count bulk work done while a write waited, not seconds: a loaded machine stretches every
wait, but not how many transactions or pieces a waiting write lets pass."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

from checkd import store
from checkd.probes import Check

from .lock_waits import write_retrying

HOST = "turn-test"
WRITES = 6


def bulk_done_while_writing(
    engine: Engine, pacer: store.Pacer, step: Callable[[Connection, int], int], done: Callable[[], int]
) -> list[int]:
    """WRITES writes of the sampler's CheckWriter while `pacer` runs `step` back to back in a thread,
    each retried while it waits as the sampler does; for each, how much bulk work `done()` counted
    from its first try to its success."""
    writer = store.CheckWriter(engine=engine, host=HOST)
    writer.write([Check(taken_at=1.0, cpu=1.0, memory=None, load=None)])  # ids learnt before
    stop = threading.Event()
    job = threading.Thread(target=pacer.run, args=(engine, step), kwargs={"stop": stop.is_set})
    job.start()
    passed = []
    try:
        for i in range(WRITES):
            time.sleep(0.07 * (i % 3))  # first tries at different points of the bulk transactions
            before = done()
            write_retrying(writer, 2.0 + i)
            passed.append(done() - before)
    finally:
        stop.set()
        job.join()
        writer.close()
    return passed


def hold_lock(conn: Connection) -> None:
    conn.execute(text("UPDATE hosts SET checks_count = checks_count WHERE id = 0"))


def test_a_waiting_write_goes_before_the_next_bulk_transaction(sqlite_engine: Engine) -> None:
    """Bulk transactions of 50 ms with no pause between them: SQLite's polling busy handler alone
    lets the bulk writer take the lock again at once, transaction after transaction. A waiting
    write lets pass at most the transaction in progress and one begun as it started to wait."""

    def step(conn: Connection, batch: int) -> int:
        hold_lock(conn)
        time.sleep(0.05)
        return batch

    bulk = store.Pacer(start=1, pause_s=0.0)
    passed = bulk_done_while_writing(sqlite_engine, bulk, step, lambda: bulk.transactions)
    assert max(passed) <= 2, passed
    assert bulk.transactions > WRITES, "the bulk job did not run alongside"


def test_an_import_transaction_commits_after_the_piece_a_write_waits_for(sqlite_engine: Engine) -> None:
    """Bulk transactions of 80 rows at 3 ms a row, in PIECES pieces: a waiting write lets pass the
    piece in progress and at most one more, not the rest of the transaction."""
    rows_done = [0]

    def step(conn: Connection, batch: int) -> int:
        hold_lock(conn)
        time.sleep(0.003 * batch)
        rows_done[0] += batch
        return batch

    bulk = store.Pacer(start=80, minimum=80, maximum=80, pause_s=0.0, pieces=store.PIECES)
    passed = bulk_done_while_writing(sqlite_engine, bulk, step, lambda: rows_done[0])
    piece = 80 // store.PIECES
    assert max(passed) <= 2 * piece, passed
    assert rows_done[0] > 2 * 80, "the bulk job did not run alongside"
