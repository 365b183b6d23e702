"""checkd.upkeep.Upkeep on real databases: it folds, prunes, counts, fails visibly and recovers.

The fold and prune run on a SQLite file and on the session's PostgreSQL (the shared `engine`
fixture); the failure, recovery and "behind" cases on SQLite files, whose directory a test can
take away for real (as tests/test_sampler.py does).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bulk_checks import load_checks
from checkd import store
from checkd.config import RetentionSettings
from checkd.db import make_engine
from checkd.models import checks, rollups
from checkd.probes import Check, MemoryUsage
from checkd.upkeep import BEHIND_AFTER_ROUNDS, Upkeep

HOST = "upkeep-test"
DAY = 86400
NOW = 1_795_000_000


def add_checks(engine: Engine, taken_at: range) -> None:
    """One stored check of HOST per second of `taken_at`."""
    memory = MemoryUsage(total=2**34, available=2**33, used=2**33, percent=50.0)
    items = [
        Check(taken_at=float(t), cpu=10.0, memory=memory, load=None, services={"httpd": "active"})
        for t in taken_at
    ]
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host=HOST, items=items)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_fold_folds_every_new_check_and_counts_it(engine: Engine) -> None:
    add_checks(engine, range(NOW - 3000, NOW))
    upkeep = Upkeep(engine=engine, host=HOST, retention=RetentionSettings(), clock=lambda: NOW)
    assert upkeep.fold() == 3000
    assert upkeep.fold() == 0
    st = upkeep.status()
    assert (st.folded_total, st.errors_total, st.health, st.last_fold_at) == (3000, 0, "ok", NOW)
    with engine.connect() as conn:
        hid = store.host_id(conn=conn, name=HOST, create=False)
        assert hid is not None
        assert store.watermark(conn=conn, host_id=hid) == max(c for (c,) in conn.execute(select(checks.c.id)))
        (minute_counts,) = conn.execute(
            select(func.sum(rollups.c.count)).where(rollups.c.tier == store.rollups.MINUTE)
        ).one()
    assert minute_counts == 3000 * 3  # cpu, memory and the availability of httpd (no load, no disk)
    assert store.host_summaries(conn=engine.connect())[0][2] == 3000


def test_prune_deletes_only_what_is_past_its_retention_and_folded(engine: Engine) -> None:
    keep = RetentionSettings(raw="1d", minute="2d", hour="3d")
    add_checks(engine, range(NOW - 2 * DAY, NOW - 2 * DAY + 600))  # past the raw retention
    add_checks(engine, range(NOW - 60, NOW))
    upkeep = Upkeep(engine=engine, host=HOST, retention=keep, clock=lambda: NOW)
    assert upkeep.prune() == 0, "nothing is folded yet: no raw check may go"
    upkeep.fold()
    add_checks(engine, range(NOW - 2 * DAY - 600, NOW - 2 * DAY))  # old, but not folded yet
    deleted = upkeep.prune()
    assert count(engine, checks) == 600 + 60
    # 600 raw checks, and the one minute bucket that starts before the 2-day cutoff (NOW is 40 s
    # into its minute) for its 3 metrics; no hour bucket is 3 days old.
    assert NOW % 60 == 40
    assert deleted == 600 + 3
    st = upkeep.status()
    assert (st.deleted_total, st.last_prune_at, st.errors_total) == (deleted, NOW, 0)


@pytest.fixture
def sqlite_dir(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    directory = tmp_path / "db"
    directory.mkdir()
    load_checks(directory / "checkd.db", 200_000, host=HOST, end_at=int(time.time()))
    engine = make_engine(f"sqlite:///{directory / 'checkd.db'}")
    yield directory, engine
    engine.dispose()


def test_a_failing_fold_is_counted_visible_and_recovers(sqlite_dir: tuple[Path, Engine]) -> None:
    directory, engine = sqlite_dir
    upkeep = Upkeep(engine=engine, host=HOST, retention=RetentionSettings())
    engine.dispose()
    away = directory.with_name("db-away")
    directory.rename(away)
    upkeep.run_once(prune=True)
    st = upkeep.status()
    assert (st.health, st.errors_total, st.folded_total, st.last_fold_at) == ("failing", 1, 0, None)
    assert st.last_error is not None and st.last_error.startswith("upkeep failed: OperationalError")
    away.rename(directory)
    upkeep.run_once(prune=True)
    st = upkeep.status()
    assert (st.health, st.errors_total, st.folded_total) == ("ok", 1, 200_000)
    assert st.last_prune_at is not None


def test_the_thread_is_behind_while_a_backlog_outlasts_its_rounds(sqlite_dir: tuple[Path, Engine]) -> None:
    """200,000 checks to fold at start, rounds every 0.2 s: the catch-up outlasts three rounds, so
    the upkeep says `behind` until its first fold completes, then `ok`."""
    _directory, engine = sqlite_dir
    upkeep = Upkeep(engine=engine, host=HOST, retention=RetentionSettings(), fold_every_s=0.2)
    upkeep.start()
    try:
        deadline = time.monotonic() + 30
        seen = set()
        while upkeep.status().last_fold_at is None and time.monotonic() < deadline:
            seen.add(upkeep.status().health)
            time.sleep(0.05)
        assert "behind" in seen, f"catch-up finished within {BEHIND_AFTER_ROUNDS} rounds: {seen}"
        st = upkeep.status()
        assert (st.health, st.folded_total, st.running) == ("ok", 200_000, True)
        assert st.fold_lag_s is not None and st.fold_lag_s < 1
        assert [t.name for t in __import__("threading").enumerate()].count("checkd-upkeep") == 1
    finally:
        upkeep.stop()
    assert not upkeep.status().running
