"""checkd.store.pacing on real SQLite files: paced bulk transactions let the sampler's writer in."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Connection, Engine, text

from checkd import store
from checkd.probes import Check

from .lock_waits import write_retrying

HOST = "pacing-test"


def test_the_batch_adapts_so_each_transaction_takes_about_the_budget(sqlite_engine: Engine) -> None:
    """A step costing 1 ms a row, a 50 ms budget: batches settle near 50 rows, and the job ends at
    the first partial batch with every row counted once, as each transaction commits. No batch is
    over 100 rows (twice the budget's), counted in rows: a loaded machine stretches a transaction's
    seconds, and only makes the batches smaller."""
    left = [2000]
    committed: list[int] = []
    batches: list[int] = []

    def step(_conn: Connection, batch: int) -> int:
        batches.append(batch)
        rows = min(batch, left[0])
        time.sleep(rows * 0.001)
        left[0] -= rows
        return rows

    pacer = store.Pacer(start=10, minimum=5, budget_s=0.05, pause_s=0.0)
    assert pacer.run(sqlite_engine, step, committed=committed.append) == 2000
    assert sum(committed) == 2000 and left == [0]
    assert 30 <= pacer.batch <= 60, pacer.batch
    assert max(batches) <= 100, batches


def test_the_samplers_writer_gets_the_lock_between_bulk_transactions(sqlite_engine: Engine) -> None:
    """A bulk job of 0.25 s write transactions back to back for 3 s (as an import is), and the
    sampler's CheckWriter writing once every 0.2 s meanwhile: no write waits much longer than one
    bulk transaction, and none fails."""
    stop = threading.Event()

    def hold(conn: Connection, batch: int) -> int:
        conn.execute(text("UPDATE hosts SET checks_count = checks_count WHERE id = 0"))
        time.sleep(0.25)
        return batch

    bulk = store.Pacer(start=1)
    job = threading.Thread(target=bulk.run, args=(sqlite_engine, hold), kwargs={"stop": stop.is_set})
    writer = store.CheckWriter(engine=sqlite_engine, host=HOST)
    writer.write([Check(taken_at=1.0, cpu=1.0, memory=None, load=None)])  # ids learnt before
    waits = []
    job.start()
    try:
        for i in range(15):
            started = time.monotonic()
            write_retrying(writer, 2.0 + i)
            waits.append(time.monotonic() - started)
            time.sleep(0.2)
    finally:
        stop.set()
        job.join()
        writer.close()
    assert bulk.transactions >= 8, "the bulk job did not run alongside"
    assert max(waits) < 0.45, [round(w, 3) for w in waits]
