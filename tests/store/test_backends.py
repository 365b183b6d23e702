"""The store backends' contract, run against both: a real SQLite file and the session's PostgreSQL.

Every backend must write checks in order (inside a caller's transaction, and atomically on a
held connection), fold them into exactly the rollups that plain arithmetic gives, and insert a
missing dimension row once; the id cache must hold only committed ids."""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from checkd import store
from checkd.models import checks, disk_paths, hosts, metric_names, rollup_progress, rollups
from checkd.probes import Check
from checkd.store import dims
from checkd.store.backends import backend_for

from .test_checks import comparable, make_check
from .test_history import spaced_checks


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _none(name: str) -> int:
    raise AssertionError(f"these checks have no devices or endpoint checks, yet {name!r} was looked up")


def _ids_of(engine: Engine, batch: list[Check]) -> tuple[int, dict[str, int], dict[str, int]]:
    with engine.begin() as conn:
        hid = dims.host_id(conn=conn, name="h")
        assert hid is not None
        paths = {d.path: dims.path_id(conn=conn, path=d.path) for c in batch for d in c.disks}
        services = {n: dims.service_id(conn=conn, name=n) for c in batch for n in c.services}
    return hid, paths, services


def test_write_checks_in_a_transaction_round_trips_in_order(engine: Engine) -> None:
    batch = [
        make_check(i, disks=("/", "/var"), services={"httpd": "active", "sshd": "failed"}) for i in range(5)
    ]
    hid, path_ids, service_ids = _ids_of(engine, batch)
    with engine.begin() as conn:
        ids = backend_for(conn).write_checks(
            conn, hid, (path_ids.__getitem__, service_ids.__getitem__, _none, _none), batch
        )
    assert ids == sorted(ids) and len(set(ids)) == 5
    with engine.connect() as conn:
        for check, new_id in zip(batch, ids, strict=True):
            got = store.get_check(conn=conn, check_id=new_id)
            assert got is not None and comparable(got) == comparable(replace(check, id=new_id, host="h"))


def test_write_batch_on_a_held_connection_is_all_or_none(engine: Engine) -> None:
    backend = backend_for(engine)
    good, bad = make_check(0), make_check(1, disks=("/", "/"))  # the same path twice: a key violation
    hid, paths, services = _ids_of(engine, [good, bad])
    held = backend.hold(engine)
    try:
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):
            backend.write_batch(
                held, hid, (paths.__getitem__, services.__getitem__, _none, _none), [good, bad]
            )
        assert _count(engine, checks) == 0
        [one] = backend.write_batch(
            held, hid, (paths.__getitem__, services.__getitem__, _none, _none), [good]
        )
        two = backend.write_batch(
            held, hid, (paths.__getitem__, services.__getitem__, _none, _none), [make_check(2)] * 3
        )
    finally:
        held.close()
    assert [one, *two] == sorted([one, *two]) and _count(engine, checks) == 4


def _expected_rollups(batch: list[Check]) -> dict[tuple[int, str, int], tuple[float, float, float, int]]:
    """What the fold must produce, by plain arithmetic: (tier, metric, bucket) -> min, max, total, count."""
    values: dict[tuple[int, str, int], list[float]] = defaultdict(list)
    for c in batch:
        t = int(c.taken_at)
        readings = {"cpu_percent": c.cpu, "load1": c.load.load1 if c.load else None}
        readings["mem_percent"] = c.memory.percent if c.memory else None
        for d in c.disks:
            readings[f"disk_percent:{d.path}"] = d.percent
        for name, state in c.services.items():
            readings[f"availability:{name}"] = 100.0 if state == "active" else 0.0
        for metric, value in readings.items():
            if value is not None:
                for tier, width in ((1, 60), (2, 3600)):
                    values[tier, metric, t - t % width].append(value)
    return {k: (min(v), max(v), sum(v), len(v)) for k, v in values.items()}


def test_fold_gives_the_rollups_arithmetic_gives_in_any_number_of_folds(engine: Engine) -> None:
    now = int(time.time()) // 3600 * 3600
    batch = spaced_checks(now - 5400, 300, 17)
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=batch[:200])
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 200
    with engine.begin() as conn:  # a second fold upserts into buckets that exist already
        store.insert_checks(conn=conn, host="h", items=batch[200:])
        assert store.fold_new_checks(conn=conn, host="h", batch=60) == 60
        assert store.fold_new_checks(conn=conn, host="h") == 40
        assert store.fold_new_checks(conn=conn, host="h") == 0
    with engine.connect() as conn:
        names = dict(conn.execute(select(metric_names.c.id, metric_names.c.name)).all())
        got = {
            (r.tier, names[r.metric_id], r.bucket): (r.min, r.max, r.total, r.count)
            for r in conn.execute(select(rollups))
        }
        mark = conn.execute(select(rollup_progress.c.last_check_id)).scalar_one()
        counted = conn.execute(select(hosts.c.checks_count)).scalar_one()
    expected = _expected_rollups(batch)
    assert got.keys() == expected.keys()
    for key, (lo, hi, total, count) in expected.items():
        assert got[key][:2] == pytest.approx((lo, hi)) and got[key][3] == count, key
        assert got[key][2] == pytest.approx(total, rel=1e-9), key
    assert mark == max(c.id for c in batch if c.id is not None) and counted == 300


def test_insert_missing_inserts_once(engine: Engine) -> None:
    backend = backend_for(engine)
    with engine.begin() as conn:
        conn.execute(backend.insert_missing(disk_paths, {"path": "/srv"}))
        conn.execute(backend.insert_missing(disk_paths, {"path": "/srv"}))
    assert _count(engine, disk_paths) == 1


def test_the_id_cache_holds_only_committed_ids(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        created = dims.path_id(conn=conn, path="/gone")
        assert dims.path_id(conn=conn, path="/gone") == created, "known within its transaction"
        assert dims.cached_id(engine, disk_paths, "/gone") is None, "published before commit"
        tx.rollback()
    assert dims.cached_id(engine, disk_paths, "/gone") is None, "a rolled-back id stayed cached"
    with engine.begin() as conn:
        kept = dims.path_id(conn=conn, path="/kept")
        assert dims.cached_id(engine, disk_paths, "/kept") is None
    assert dims.cached_id(engine, disk_paths, "/kept") == kept
    engine.dispose()  # the database behind an engine may have been replaced
    assert dims.cached_id(engine, disk_paths, "/kept") is None
    with engine.begin() as conn:  # the rolled-back row really is gone, and is made anew
        assert dims.path_id(conn=conn, path="/gone") not in (None, kept)
    assert _count(engine, disk_paths) == 2


def test_a_lock_wait_is_told_from_other_faults(engine: Engine) -> None:
    """A write that finds another transaction's lock (given up after a few ms) is a lock wait; a
    missing table is not."""
    backend = backend_for(engine)
    with engine.begin() as conn:
        hid = dims.host_id(conn=conn, name="h")
    touch = update(hosts).where(hosts.c.id == hid).values(checks_count=hosts.c.checks_count)
    short_wait = (
        "PRAGMA busy_timeout = 10" if engine.dialect.name == "sqlite" else "SET lock_timeout = '10ms'"
    )
    with engine.connect() as holder, engine.connect() as waiter:
        holder.execute(touch)  # holds the lock until its transaction ends
        waiter.exec_driver_sql(short_wait)
        waiter.commit()
        with pytest.raises(DBAPIError) as locked:
            waiter.execute(touch)
        waiter.rollback()
        with pytest.raises(DBAPIError) as missing:
            waiter.execute(text("SELECT * FROM nowhere"))
        holder.rollback()
    assert backend.is_lock_wait(locked.value), locked.value
    assert not backend.is_lock_wait(missing.value), missing.value
