"""The agent's backlog on real SQLite files: oldest first across memory and spool, bounded, acknowledged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from checkd.agent.backlog import Backlog


def _fill(backlog: Backlog, seqs: range, size: int = 100) -> None:
    for seq in seqs:
        backlog.add((seq, b"x" * size))


def test_spool_then_memory_oldest_first_and_acks_remove(tmp_path: Path) -> None:
    backlog = Backlog(tmp_path / "spool", 1 << 20)
    _fill(backlog, range(1, 6))
    backlog.spill()  # the collector is unreachable: 1..5 go to the spool
    _fill(backlog, range(6, 9))
    assert backlog.waiting() == (3, 5)
    assert [s for s, _ in backlog.take(3)] == [1, 2, 3]
    backlog.ack(3)
    assert [s for s, _ in backlog.take(10)] == [4, 5]  # the spool drains before memory
    backlog.ack(5)
    assert [s for s, _ in backlog.take(10)] == [6, 7, 8]
    backlog.ack(8)
    assert backlog.waiting() == (0, 0) and backlog.take(10) == []


def test_the_spool_survives_a_restart_with_its_sequence_number(tmp_path: Path) -> None:
    backlog = Backlog(tmp_path / "spool", 1 << 20)
    start = backlog.next_seq()
    _fill(backlog, range(start + 1, start + 4))
    backlog.save_seq(start + 10**12)  # as if the clock had been far ahead
    backlog.close()  # spills memory
    again = Backlog(tmp_path / "spool", 1 << 20)
    assert [s for s, _ in again.take(10)] == [start + 1, start + 2, start + 3]
    assert again.next_seq() == start + 10**12


def test_over_the_bound_the_oldest_are_dropped_and_counted(tmp_path: Path) -> None:
    backlog = Backlog(tmp_path / "spool", 1000)
    _fill(backlog, range(1, 31))  # 3,000 bytes into a 1,000-byte bound
    backlog.spill()
    spooled = backlog.waiting()[1]
    assert backlog.dropped_total == 30 - spooled and spooled * 100 <= 1000
    assert backlog.take(1)[0][0] == 31 - spooled  # the newest were kept


def test_without_a_usable_spool_memory_is_bounded(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    backlog = Backlog(blocker / "spool", 1000)
    assert backlog.spool is None and backlog.spool_error and "file" in backlog.spool_error
    _fill(backlog, range(1, 51))
    backlog.spill()
    assert backlog.waiting() == (10, 0) and backlog.dropped_total == 40
    assert [s for s, _ in backlog.take(3)] == [41, 42, 43]


def test_the_spool_file_exists_only_while_checks_wait_in_it(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    backlog = Backlog(spool, 1 << 20)
    _fill(backlog, range(1, 4))
    assert backlog.spool is None and not (spool / "spool.db").exists()  # memory is enough
    backlog.ack(3)
    backlog.close()
    assert not (spool / "spool.db").exists()
    backlog = Backlog(spool, 1 << 20)
    _fill(backlog, range(4, 6))
    backlog.spill()  # the collector is unreachable
    assert (spool / "spool.db").exists() and backlog.waiting() == (0, 2)
    backlog.ack(5)
    backlog.close()  # nothing waits: the file goes, so the next start loads no sqlite3
    assert not (spool / "spool.db").exists()
    assert Backlog(spool, 1 << 20).spool is None


def test_a_spool_of_an_older_agent_gives_its_sequence_number(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    with sqlite3.connect(spool / "spool.db") as db:  # as agents before the next_seq file wrote it
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('next_seq', ?)", (2**52,))
    backlog = Backlog(spool, 1 << 20)
    assert backlog.spool is not None and backlog.next_seq() == 2**52
