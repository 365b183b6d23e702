"""checkd.sampler.Sampler on a real SQLite file with a real CheckProbe.

Time is real (the loop waits on an Event), except where a test injects `monotonic=` to make a jump.
The database goes away for real: its directory is renamed (after the engine's pool is emptied, so
the next write has to open the file) and comes back when the directory is renamed back.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from checkd.db import make_engine, migrate
from checkd.models import checks as checks_table
from checkd.probes import Check, CheckProbe
from checkd.sampler import QUEUE_SECONDS, Sampler

HOST = "sampler-test"


@dataclass
class Db:
    """A migrated SQLite database in its own directory, which a test can take away and bring back."""

    dir: Path
    engine: Engine

    @property
    def away(self) -> Path:
        return self.dir.with_name(self.dir.name + "-away")

    def take_away(self) -> None:
        """Make every new connection fail: empty the pool, then move the directory."""
        self.engine.dispose()
        self.dir.rename(self.away)

    def bring_back(self) -> None:
        self.away.rename(self.dir)

    def stored(self) -> list[tuple[int, int]]:
        """(id, taken_at) of every stored check, in id order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(checks_table.c.id, checks_table.c.taken_at).order_by(checks_table.c.id)
            )
            return [(int(i), int(t)) for i, t in rows]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    directory = tmp_path / "db"
    engine = make_engine(f"sqlite:///{directory / 'checkd.db'}")
    migrate(engine)
    database = Db(directory, engine)
    yield database
    if database.away.exists() and not directory.exists():
        database.bring_back()
    engine.dispose()


@dataclass
class Recorder:
    """Every check as it is taken (exact float taken_at), and an Event per write."""

    taken: list[Check] = field(default_factory=list)
    written: list[Check] = field(default_factory=list)
    wrote: threading.Event = field(default_factory=threading.Event)

    def on_check(self, check: Check) -> None:
        self.taken.append(check)

    def on_written(self, check: Check) -> None:
        self.written.append(check)
        self.wrote.set()


@pytest.fixture
def make_sampler(db: Db) -> Iterator[Callable[..., tuple[Sampler, Recorder]]]:
    """Samplers on `db` with a real CheckProbe of "/"; each is stopped (joined) at teardown."""
    made: list[Sampler] = []

    def make(
        interval_s: int = 1,
        *,
        service_states: Callable[[], dict[str, str]] | None = None,
        clock: Callable[[], float] = time.time,
        **kw: Any,
    ) -> tuple[Sampler, Recorder]:
        probe = CheckProbe(disk_paths=["/"], service_states=service_states, clock=clock)
        sampler = Sampler(engine=db.engine, host=HOST, probe=probe, interval_s=interval_s, **kw)
        rec = Recorder()
        sampler.on_check(rec.on_check)
        sampler.on_written(rec.on_written)
        made.append(sampler)
        return sampler, rec

    yield make
    for sampler in made:
        sampler.stop(10)


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "checkd-sampler"]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout}s: {what}")


def slow_states(seconds: float) -> Callable[[], dict[str, str]]:
    """A service-state reader that takes `seconds` (a slow `service status`)."""

    def states() -> dict[str, str]:
        time.sleep(seconds)
        return {"httpd": "inactive"}

    return states


class Counter:
    """A wall clock that ticks one second per reading: distinct, ordered taken_at values."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


# -- one thread ------------------------------------------------------------------------------------
def test_start_twice_second_returns_false_and_only_one_thread_runs(
    make_sampler: Callable[..., tuple[Sampler, Recorder]],
) -> None:
    baseline = len(sampler_threads())  # other tests' samplers, if any are still winding down
    sampler, _ = make_sampler(60)
    assert sampler.start() is True
    assert sampler.start() is False
    assert sampler.running
    assert len(sampler_threads()) == baseline + 1
    assert sampler.stop(5) is True
    assert sampler.stop(5) is False
    assert len(sampler_threads()) == baseline
    assert sampler.start() is True  # a stopped sampler starts again, still one thread
    assert sampler.start() is False
    assert len(sampler_threads()) == baseline + 1


def test_concurrent_starts_start_exactly_one_thread(
    make_sampler: Callable[..., tuple[Sampler, Recorder]],
) -> None:
    baseline = len(sampler_threads())
    sampler, _ = make_sampler(60)
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def start() -> None:
        barrier.wait()
        results.append(sampler.start())

    callers = [threading.Thread(target=start) for _ in range(8)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(sampler_threads()) == baseline + 1


def test_first_check_is_taken_and_stored_at_start(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    sampler, rec = make_sampler(3600)
    started = time.time()
    sampler.start()
    assert rec.wrote.wait(3), "no check written within 3 s of start"
    assert rec.taken[0].taken_at - started < 1
    assert len(db.stored()) == 1
    st = sampler.status()
    assert (st.checks_total, st.pending_writes, st.running, st.failing) == (1, 0, True, False)


def test_stop_joins_the_thread_and_every_taken_check_is_stored(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    sampler, rec = make_sampler(1)
    others = set(sampler_threads())
    sampler.start()
    [thread] = set(sampler_threads()) - others
    wait_until(lambda: len(rec.taken) >= 2, 5, "two checks")
    sampler.stop(10)
    assert not thread.is_alive()
    assert not sampler.running
    assert sampler.status().pending_writes == 0
    assert [t for _, t in db.stored()] == [int(c.taken_at) for c in rec.taken]


# -- cadence ---------------------------------------------------------------------------------------
def test_cadence_is_drift_free_although_each_check_takes_300ms(
    make_sampler: Callable[..., tuple[Sampler, Recorder]],
) -> None:
    """Check i is taken at start + i s: the 0.3 s each check costs does not push later ones back
    (a loop that sleeps `interval` after each check would be 1.2 s late by the fifth)."""
    sampler, rec = make_sampler(1, service_states=slow_states(0.3))
    sampler.start()
    wait_until(lambda: len(rec.taken) >= 5, 8, "five checks")
    times = [c.taken_at for c in rec.taken[:5]]
    offsets = [round(t - times[0] - i, 3) for i, t in enumerate(times)]
    assert all(abs(o) < 0.25 for o in offsets), f"drift from the 1 s grid: {offsets}"
    assert sampler.status().missed_slots_total == 0


def test_missed_slots_are_skipped_not_bunched(make_sampler: Callable[..., tuple[Sampler, Recorder]]) -> None:
    """At interval 1 a 1.5 s check overruns the next slot: that slot is skipped and counted, and the
    next check waits for the following slot instead of running at once to catch up."""
    sampler, rec = make_sampler(1, service_states=slow_states(1.5))
    sampler.start()
    wait_until(lambda: len(rec.taken) >= 3, 10, "three checks")
    times = [c.taken_at for c in rec.taken[:3]]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert all(g >= 1.4 for g in gaps), f"checks bunched: gaps {gaps}"
    on_grid = [round((t - times[0]) % 1.0, 3) for t in times]
    assert all(x < 0.25 or x > 0.75 for x in on_grid), f"checks left the 1 s grid: {on_grid}"
    assert sampler.status().missed_slots_total >= 2


def test_clock_jump_is_counted_as_missed_slots_not_caught_up(
    make_sampler: Callable[..., tuple[Sampler, Recorder]],
) -> None:
    """A monotonic jump of 10.5 s (a stalled or suspended host) skips ten slots; it does not fire
    ten checks back to back."""

    class JumpingMonotonic:
        def __init__(self) -> None:
            self.offset = 0.0

        def __call__(self) -> float:
            return time.monotonic() + self.offset

    clock = JumpingMonotonic()
    sampler, rec = make_sampler(1, monotonic=clock)
    sampler.start()
    wait_until(lambda: rec.taken, 3, "the first check")
    clock.offset = 10.5
    wait_until(lambda: len(rec.taken) >= 2, 3, "the check after the jump")
    time.sleep(1.6)
    assert 9 <= sampler.status().missed_slots_total <= 11, sampler.status()
    assert len(rec.taken) <= 5, f"{len(rec.taken)} checks in ~2.5 s: the skipped slots were bunched"


# -- the database goes away ------------------------------------------------------------------------
def test_failing_writes_queue_in_memory_and_flush_in_order_when_the_database_is_back(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    sampler, rec = make_sampler(1)
    sampler.start()
    assert rec.wrote.wait(3)
    db.take_away()  # just after a write: the next one is ~1 s away

    st = wait_until(
        lambda: (s := sampler.status()).pending_writes >= 3 and s, 8, "three checks queued in memory"
    )
    assert st.failing is True
    assert st.write_errors_total >= 1
    assert st.last_error and "database" in st.last_error
    assert st.running, "a failing database must not stop the sampler"
    assert st.dropped_total == 0

    db.bring_back()
    wait_until(lambda: sampler.status().pending_writes == 0, 5, "the queue flushed")
    sampler.stop(10)
    st = sampler.status()
    assert st.failing is False
    assert st.dropped_total == 0
    stored = db.stored()
    # Nothing lost, nothing twice, in the order taken.
    assert [t for _, t in stored] == [int(c.taken_at) for c in rec.taken]
    assert len(stored) == st.checks_total


@pytest.mark.parametrize("interval", [3600, 1800, 1000, 7, 1])
def test_queue_holds_an_hour_of_checks_and_counts_what_it_drops(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]], interval: int
) -> None:
    capacity = math.ceil(QUEUE_SECONDS / interval) + 1
    sampler, _ = make_sampler(interval, clock=Counter())
    db.take_away()
    taken = []
    for _ in range(capacity + 3):
        taken.append(sampler.sample_once())
        assert sampler.flush() is False  # what the writer thread does after each check
    st = sampler.status()
    assert st.pending_writes == capacity
    assert st.dropped_total == 3
    assert st.write_errors_total == capacity + 3
    assert st.errors_total >= st.dropped_total + st.write_errors_total
    assert st.failing is True

    db.bring_back()
    assert sampler.flush() is True
    assert sampler.status().pending_writes == 0
    assert sampler.status().failing is False
    # The oldest three were dropped; the rest are stored in the order they were taken.
    assert [t for _, t in db.stored()] == [int(c.taken_at) for c in taken[3:]]


def test_raising_the_interval_keeps_what_is_queued(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    sampler, _ = make_sampler(1800, clock=Counter())  # capacity 3
    db.take_away()
    taken = [sampler.sample_once() for _ in range(3)]
    sampler.set_interval(3600)  # capacity 2, but the three queued checks stay
    assert sampler.status().pending_writes == 3
    assert sampler.status().dropped_total == 0
    db.bring_back()
    assert sampler.flush()
    assert [t for _, t in db.stored()] == [int(c.taken_at) for c in taken]


def test_a_database_that_was_never_there_does_not_stop_sampling(
    tmp_path: Path, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    """An engine whose file cannot be opened at all: checks are taken and queued, the thread lives."""
    engine = make_engine(f"sqlite:///{tmp_path / 'gone' / 'checkd.db'}")
    (tmp_path / "gone").rmdir()
    probe = CheckProbe(disk_paths=["/"])
    sampler = Sampler(engine=engine, host=HOST, probe=probe, interval_s=1)
    try:
        sampler.start()
        wait_until(lambda: sampler.status().pending_writes >= 2, 5, "two queued checks")
        st = sampler.status()
        assert st.running and st.failing and st.write_errors_total >= 2
    finally:
        sampler.stop(10)
        engine.dispose()


# -- another writer holds the lock -----------------------------------------------------------------
class LockHolder:
    """Another connection (as an import would be) that holds the database's write lock."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def hold(self, seconds: float) -> threading.Thread:
        """Take the write lock now and release it `seconds` later, from a thread."""
        self.con.execute("BEGIN IMMEDIATE")

        def release() -> None:
            time.sleep(seconds)
            self.con.execute("COMMIT")
            self.con.close()

        thread = threading.Thread(target=release)
        thread.start()
        return thread


def test_a_held_write_lock_delays_writes_but_never_a_check(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    """While another connection holds the write lock for 2.5 s, checks are still taken on their
    1 s slots (the probe never waits on the database); the writes wait, then succeed, and a write
    that waited is no error."""
    sampler, rec = make_sampler(1)
    sampler.start()
    assert rec.wrote.wait(3)
    released = LockHolder(db.dir / "checkd.db").hold(2.5)
    held_from = time.time()
    wait_until(lambda: sampler.status().pending_writes >= 2, 3, "two checks queued behind the lock")
    released.join()
    wait_until(lambda: sampler.status().pending_writes == 0, 5, "the queue written")
    sampler.stop(10)
    st = sampler.status()
    assert st.missed_slots_total == 0, st
    assert (st.write_errors_total, st.errors_total, st.failing) == (0, 0, False), st
    assert st.pending_writes_max >= 2
    assert 1.5 <= st.longest_write_wait_s < 5, st
    times = [c.taken_at for c in rec.taken]
    assert any(held_from < t < held_from + 2.5 for t in times), "no check taken while the lock was held"
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert all(0.75 < g < 1.25 for g in gaps), f"checks left their 1 s slots: {gaps}"
    assert [t for _, t in db.stored()] == [int(t) for t in times]


def test_a_lock_held_beyond_the_patience_is_a_failing_write(
    db: Db, make_sampler: Callable[..., tuple[Sampler, Recorder]]
) -> None:
    """A lock that stays taken longer than `lock_patience_s` is a fault: counted, failing, visible;
    the checks wait in memory and are written in order once it is released."""
    sampler, rec = make_sampler(1, lock_patience_s=1.0)
    sampler.start()
    assert rec.wrote.wait(3)
    released = LockHolder(db.dir / "checkd.db").hold(3.5)
    st = wait_until(lambda: (s := sampler.status()).failing and s, 4, "the write counted as failing")
    assert st.write_errors_total >= 1
    assert st.last_error and "locked" in st.last_error
    released.join()
    wait_until(lambda: not sampler.status().failing and sampler.status().pending_writes == 0, 8, "recovery")
    sampler.stop(10)
    assert sampler.status().missed_slots_total == 0
    assert [t for _, t in db.stored()] == [int(c.taken_at) for c in rec.taken]
