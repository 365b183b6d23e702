"""Partitioned checks on the session's real PostgreSQL: migration 0009 keeps every check, the upkeep
creates partitions ahead, a write with no partition yet lands in the default one, and retention
drops whole days (the rollups still answer for them) but never a day holding unfolded checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, func, select, update

from checkd import store
from checkd.config import RetentionSettings
from checkd.db import alembic_config, make_engine, migrate
from checkd.models import check_disks, check_services, checks, hosts
from checkd.probes import Check, DiskUsage, MemoryUsage
from checkd.store.backends import pg_partitions as parts
from checkd.upkeep import Upkeep
from pg_server import PostgresServer

DAY = parts.DAY


@pytest.fixture
def this_day() -> int:
    """Today's day number, read as the test starts (the migration and the upkeep read the clock then)."""
    return int(time.time()) // DAY


HOSTS = ("alpha", "beta")
KEEP = store.Retentions(raw=30 * DAY, minute=180 * DAY)


def make_checks(start: int, n: int, step: int = 60) -> list[Check]:
    """`n` checks `step` s apart from `start`, with two disks and two services, values varying."""
    memory = MemoryUsage(total=2**34, available=2**33, used=2**33, percent=50.0)
    return [
        Check(
            taken_at=float(start + i * step),
            cpu=float(i % 97),
            memory=memory,
            load=None,
            disks=[
                DiskUsage("/", 1000, 10 + i % 90, 990 - i % 90, 1.0 + i % 90),
                DiskUsage("/var", 10, 5, 5, 50.0),
            ],
            services={"httpd": "active" if i % 3 else "failed", "sshd": "active"},
        )
        for i in range(n)
    ]


def write(engine: Engine, host: str, items: list[Check]) -> None:
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host=host, items=items)


def counts(conn: Connection) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in (checks, check_disks, check_services)
    )


def answers(conn: Connection, since: int, until: int) -> dict[str, object]:
    """What the read paths say about [since, until]: host counts, pages of checks, series."""
    out: dict[str, object] = {"hosts": store.host_summaries(conn=conn)}
    for host in HOSTS:
        page = store.list_checks(conn=conn, host=host, since=since, until=until, limit=10_000)
        out[f"{host} checks"] = [(c.taken_at, c.cpu, c.disks, c.services) for c in page]
        for metric, qualifier in (("cpu_percent", None), ("disk_percent", "/"), ("availability", "httpd")):
            got = store.series(
                conn=conn,
                host=host,
                metric=metric,
                qualifier=qualifier,
                since=since,
                until=until,
                points=50,
                now=until,
                keep=KEEP,
            )
            out[f"{host} {metric}"] = got
    return out


def relations(engine: Engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return [p.name for p in parts.partitions(conn, table)]


def wait_for_a_lock_wait_on_checks(watch: Connection) -> None:
    """Return once some session waits for a lock on checks (at most 10 s)."""
    waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'checks'::regclass"
    deadline = time.monotonic() + 10
    while not watch.exec_driver_sql(waiting).scalar():
        watch.rollback()
        assert time.monotonic() < deadline, "the retention step waits for a lock on checks"
        time.sleep(0.02)


@pytest.fixture
def old_engine(postgres: PostgresServer) -> Iterator[Engine]:
    """A PostgreSQL database migrated only to 0008, as checkd left it before partitions."""
    eng = make_engine(postgres.create_database())
    cfg = alembic_config(eng)
    with eng.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.commit()
    yield eng
    eng.dispose()


def test_migration_0009_keeps_every_check_and_every_answer(this_day: int, old_engine: Engine) -> None:
    since = (this_day - 3) * DAY
    for host in HOSTS:  # three days of checks, every 10 min, folded for alpha only
        write(old_engine, host, make_checks(since, 3 * 144 + 20, step=600))
    Upkeep(engine=old_engine, host="alpha", retention=RetentionSettings()).fold()
    with old_engine.connect() as conn:
        assert not parts.is_partitioned(conn, "checks")
        before, before_counts = answers(conn, since, this_day * DAY + DAY), counts(conn)
        some = max(conn.execute(select(checks.c.id)).scalars())
        before_one = store.get_check(conn=conn, check_id=some)
    assert before_counts == (2 * 452, 2 * 452 * 2, 2 * 452 * 2)

    migrate(old_engine)

    with old_engine.connect() as conn:
        assert all(parts.is_partitioned(conn, t) for t in (parts.PARENT, *parts.CHILDREN))
        assert counts(conn) == before_counts
        assert answers(conn, since, this_day * DAY + DAY) == before
        assert store.get_check(conn=conn, check_id=some) == before_one
        default_rows = conn.exec_driver_sql("SELECT count(*) FROM checks_default").scalar()
        per_day = conn.exec_driver_sql(f"SELECT host_id, sum(count) FROM {parts.DAY_COUNTS} GROUP BY 1").all()
    assert [n for _h, n in per_day] == [452], "the folded checks of alpha, counted per day"
    assert default_rows == 0, "every migrated day got its own partition"
    names = relations(old_engine, "checks")
    for day in range(this_day - 3, this_day + parts.AHEAD_DAYS + 1):
        assert f"checks_{parts.stamp(day)}" in names
    assert f"check_disks_before_{parts.stamp(this_day)}" in relations(old_engine, "check_disks")
    # New checks: ids from today's base, their children in today's id range; the fold goes on.
    write(old_engine, "alpha", make_checks(this_day * DAY + 60, 5))
    with old_engine.connect() as conn:
        newest = max(conn.execute(select(checks.c.id)).scalars())
        in_today = conn.exec_driver_sql(f"SELECT count(*) FROM check_disks_{parts.stamp(this_day)}").scalar()
    assert parts.id_base(this_day) <= newest < parts.id_base(this_day + 1)
    assert in_today == 5 * 2
    assert Upkeep(engine=old_engine, host="beta", retention=RetentionSettings()).fold() == 452
    with old_engine.connect() as conn:
        kept = counts(conn)
        cfg = alembic_config(old_engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")  # and back to plain tables, every row kept
        conn.commit()
        assert not parts.is_partitioned(conn, "checks") and counts(conn) == kept


def test_the_upkeep_creates_partitions_ahead_and_moves_the_sequence(this_day: int, pg_engine: Engine) -> None:
    later = this_day + 10
    upkeep = Upkeep(
        engine=pg_engine, host="alpha", retention=RetentionSettings(), clock=lambda: later * DAY + 5
    )
    assert f"checks_{parts.stamp(later)}" not in relations(pg_engine, "checks")
    assert upkeep.make_partitions() == (1 + len(parts.CHILDREN)) * (parts.AHEAD_DAYS + 1)
    assert upkeep.make_partitions() == 0
    for table in (parts.PARENT, *parts.CHILDREN):
        names = relations(pg_engine, table)
        assert all(f"{table}_{parts.stamp(d)}" in names for d in range(later, later + parts.AHEAD_DAYS + 1))
    write(pg_engine, "alpha", make_checks(later * DAY + 60, 3))
    with pg_engine.connect() as conn:
        ids = sorted(conn.execute(select(checks.c.id)).scalars())
        there = conn.exec_driver_sql(f"SELECT count(*) FROM checks_{parts.stamp(later)}").scalar()
    assert ids[0] == parts.id_base(later) and there == 3


def test_a_clock_before_the_migrations_day_makes_the_days_and_no_overlapping_id_range(
    this_day: int,
    pg_engine: Engine,
) -> None:
    back = this_day - 40
    upkeep = Upkeep(engine=pg_engine, host="alpha", retention=RetentionSettings(), clock=lambda: back * DAY)
    assert upkeep.make_partitions() == parts.AHEAD_DAYS + 1  # the days of checks; the ids stay where they are
    assert upkeep.status().errors_total == 0
    write(pg_engine, "alpha", make_checks(back * DAY + 60, 2))
    with pg_engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM checks_{parts.stamp(back)}").scalar() == 2
        assert counts(conn) == (2, 4, 4)


def test_a_write_with_no_partition_yet_lands_in_the_default_and_moves_into_its_day(
    this_day: int, pg_engine: Engine
) -> None:
    far = this_day + 400  # beyond every partition made ahead
    write(pg_engine, "alpha", make_checks(far * DAY + 100, 4))
    with pg_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM checks_default").scalar() == 4
        one = store.list_checks(conn=conn, host="alpha", limit=1)[0]
    upkeep = Upkeep(engine=pg_engine, host="alpha", retention=RetentionSettings(), clock=lambda: far * DAY)
    upkeep.make_partitions()
    with pg_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM checks_default").scalar() == 0
        assert conn.exec_driver_sql(f"SELECT count(*) FROM checks_{parts.stamp(far)}").scalar() == 4
        assert counts(conn) == (4, 8, 8)
        assert store.list_checks(conn=conn, host="alpha", limit=1)[0] == one


def test_retention_drops_whole_old_days_and_the_rollups_still_answer_for_them(
    this_day: int, pg_engine: Engine
) -> None:
    """The test's "today" is 100 days ahead, so the old days' ids are ahead of the migration's."""
    today = this_day + 100
    old = today - 40
    keep = RetentionSettings(raw="30d", minute="180d", hour="5y")
    for day in (old, old + 1):  # their partitions were made ahead on their day
        Upkeep(engine=pg_engine, host="alpha", retention=keep, clock=lambda d=day: d * DAY).make_partitions()
        if day == old:  # gamma wrote a little that day, then stopped: its watermark stays behind
            write(pg_engine, "gamma", make_checks(day * DAY, 5))
            assert Upkeep(engine=pg_engine, host="gamma", retention=keep).fold() == 5
        for host in HOSTS:
            write(pg_engine, host, make_checks(day * DAY, 144, step=600))
    upkeeps = {
        h: Upkeep(engine=pg_engine, host=h, retention=keep, clock=lambda: today * DAY + 7200) for h in HOSTS
    }
    upkeeps["alpha"].make_partitions()
    write(pg_engine, "alpha", make_checks(today * DAY, 10))
    upkeeps["alpha"].fold()
    span = (old * DAY, (old + 2) * DAY - 1)
    with pg_engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM checks_{parts.stamp(old)}").scalar() == 2 * 144 + 5
        assert (
            conn.exec_driver_sql(f"SELECT count(*) FROM check_disks_{parts.stamp(old)}").scalar()
            == 4 * 144 + 10
        )

    # beta's old checks are not folded yet: no old day may go, and no row of it either.
    assert upkeeps["alpha"].prune() == 0
    assert f"checks_{parts.stamp(old)}" in relations(pg_engine, "checks")

    upkeeps["beta"].fold()
    with pg_engine.connect() as conn:
        history = answers(conn, *span)
        summaries = dict((h, n) for h, _t, n in store.host_summaries(conn=conn))
    assert summaries == {"alpha": 2 * 144 + 10, "beta": 2 * 144, "gamma": 5}
    assert upkeeps["beta"].prune() == 2 * 2 * 144 + 5
    assert upkeeps["alpha"].prune() == 0
    for table in (parts.PARENT, *parts.CHILDREN):
        names = relations(pg_engine, table)
        assert f"{table}_{parts.stamp(old)}" not in names and f"{table}_{parts.stamp(old + 1)}" not in names
        assert f"{table}_{parts.stamp(today)}" in names
    with pg_engine.connect() as conn:
        left = conn.exec_driver_sql(
            "SELECT relname FROM pg_class WHERE relname LIKE %s", ("%_retired",)
        ).all()
        assert left == [], "the detached days were dropped in the next step"
        assert counts(conn) == (10, 20, 20)
        assert dict((h, n) for h, _t, n in store.host_summaries(conn=conn)) == {
            "alpha": 10,
            "beta": 0,
            "gamma": 0,
        }
        after = answers(conn, *span)
    for host in HOSTS:  # the raw checks are gone, the rollups answer the same history
        assert after[f"{host} checks"] == []
        for metric in ("cpu_percent", "disk_percent", "availability"):
            assert after[f"{host} {metric}"] == history[f"{host} {metric}"]
            assert len(history[f"{host} {metric}"].points) > 0  # type: ignore[attr-defined]


def test_retention_deletes_rows_only_where_no_day_partition_is(this_day: int, pg_engine: Engine) -> None:
    """Old checks written while no partition covered their day sit in the default partition:
    retention deletes those row by row (the only rows it deletes)."""
    keep = RetentionSettings(raw="30d")
    write(pg_engine, "alpha", make_checks((this_day - 50) * DAY, 20))
    write(pg_engine, "alpha", make_checks(this_day * DAY + 60, 5))
    upkeep = Upkeep(engine=pg_engine, host="alpha", retention=keep, clock=lambda: this_day * DAY + 3600)
    upkeep.fold()
    assert upkeep.prune() == 20
    with pg_engine.connect() as conn:
        assert counts(conn) == (5, 10, 10)
        assert conn.exec_driver_sql("SELECT count(*) FROM checks_default").scalar() == 0


def a_folded_day_40_days_back(pg_engine: Engine, this_day: int) -> tuple[Upkeep, int, int]:
    """Ten folded checks of alpha on a day 40 days before "today" (100 days ahead, so the old day's
    ids are ahead of the migration's); the upkeep of "today" keeping 30 days, and both days."""
    today = this_day + 100
    old = today - 40
    keep = RetentionSettings(raw="30d")
    Upkeep(engine=pg_engine, host="alpha", retention=keep, clock=lambda: old * DAY).make_partitions()
    write(pg_engine, "alpha", make_checks(old * DAY, 10, step=600))
    upkeep = Upkeep(engine=pg_engine, host="alpha", retention=keep, clock=lambda: today * DAY)
    upkeep.make_partitions()
    assert upkeep.fold() == 10
    return upkeep, old, today


def test_a_day_detached_while_a_fold_updates_its_host_goes_through(this_day: int, pg_engine: Engine) -> None:
    """A fold reads checks, then updates its host's count. Retention detaching a day meanwhile
    waits for checks before it touches hosts, so both go through (it used to update the hosts
    first and then wait for checks: a deadlock, one of them failed)."""
    _upkeep, old, _today = a_folded_day_40_days_back(pg_engine, this_day)
    with pg_engine.begin() as conn:  # the empty days before it go first
        while parts.drop_oldest(conn, old * DAY) is not None:
            pass
    outcome: dict[str, object] = {}

    def retention_step() -> None:
        try:
            with pg_engine.begin() as conn:
                outcome["detached"] = parts.drop_oldest(conn, (old + 1) * DAY)
        except Exception as exc:  # the test reports it
            outcome["error"] = exc

    with pg_engine.connect() as fold, pg_engine.connect() as watch:
        fold.execute(select(func.count()).select_from(checks)).scalar()  # a fold in flight has read checks
        step = threading.Thread(target=retention_step)
        step.start()
        wait_for_a_lock_wait_on_checks(watch)
        fold.execute(update(hosts).where(hosts.c.name == "alpha").values(checks_count=hosts.c.checks_count))
        fold.commit()
        step.join(30)
    assert outcome == {"detached": 10}


def test_a_long_reader_of_checks_delays_retention_not_the_writers_behind_it(
    this_day: int, pg_engine: Engine
) -> None:
    """Detaching a day needs checks to itself, and writers queue behind the waiting DDL: the step
    waits at most STEP_LOCK_TIMEOUT per try, so a write waits less than a second while a reader
    holds checks for longer; the day goes at the next round (it used to wait 5 s, and the writers
    with it)."""
    upkeep, old, today = a_folded_day_40_days_back(pg_engine, this_day)
    pruned: list[int] = []
    with pg_engine.connect() as reader, pg_engine.connect() as watch:
        reader.execute(select(func.count()).select_from(checks)).scalar()  # a long read of checks
        step = threading.Thread(target=lambda: pruned.append(upkeep.prune()))
        step.start()
        wait_for_a_lock_wait_on_checks(watch)
        started = time.monotonic()
        write(pg_engine, "beta", make_checks(today * DAY + 60, 1))
        waited = time.monotonic() - started
        step.join(30)
        assert f"checks_{parts.stamp(old)}" in relations(pg_engine, "checks"), "kept while the reader reads"
        reader.rollback()
    assert waited < 1.0, f"a live write waited {waited:.2f} s behind retention"
    assert pruned == [0] and upkeep.status().errors_total == 0
    assert upkeep.prune() == 10
    assert f"checks_{parts.stamp(old)}" not in relations(pg_engine, "checks")
