"""WriteBacklog on a real SQLite file kept locked by another connection (writes fail, as in an outage)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from checkd.backlog import WriteBacklog


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "log.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE log (n INTEGER)")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    yield engine, path
    engine.dispose()


def _insert(n: int) -> Callable[[Connection], object]:
    return lambda conn: conn.execute(text("INSERT INTO log VALUES (:n)"), {"n": n})


def _rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT n FROM log ORDER BY rowid")]


def _locked(path: Path) -> sqlite3.Connection:
    """Another connection holding SQLite's write lock until it is closed."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_writes_wait_in_order_while_failing_and_the_oldest_is_dropped_when_full(
    db: tuple[Engine, Path],
) -> None:
    engine, path = db
    backlog = WriteBacklog(engine=engine, what="test log", capacity=3, retry_s=3600)
    assert backlog.submit(_insert(1)) is None
    lock = _locked(path)
    for n in (2, 3, 4, 5):
        assert backlog.submit(_insert(n)) is not None
    st = backlog.status()
    assert (st.pending, st.dropped_total, st.errors_total) == (3, 1, 4)
    assert st.last_error is not None and "locked" in st.last_error
    lock.rollback()
    lock.close()
    assert backlog.flush() and backlog.status().pending == 0 and backlog.status().last_error is None
    assert _rows(path) == [1, 3, 4, 5], "in order; the oldest waiting one was dropped and counted"
    assert backlog.close()


def test_the_retry_thread_writes_what_waits_once_the_database_takes_writes(db: tuple[Engine, Path]) -> None:
    engine, path = db
    backlog = WriteBacklog(engine=engine, what="test log", capacity=10, retry_s=0.1)
    lock = _locked(path)
    backlog.submit(_insert(1))
    backlog.submit(_insert(2))
    lock.rollback()
    lock.close()
    deadline = time.monotonic() + 5
    while backlog.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _rows(path) == [1, 2]
    assert backlog.close()


def test_coalesce_keeps_only_the_newest_waiting_write(db: tuple[Engine, Path]) -> None:
    engine, path = db
    backlog = WriteBacklog(engine=engine, what="test state", capacity=1, coalesce=True, retry_s=3600)
    lock = _locked(path)
    for n in (1, 2, 3):
        assert backlog.submit(_insert(n)) is not None
    assert (backlog.pending, backlog.dropped_total) == (1, 0), "superseded, not lost"
    lock.rollback()
    lock.close()
    assert backlog.close() and _rows(path) == [3]
