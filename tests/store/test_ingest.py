"""checkd.store ingest: CheckWriter and insert_checks write whole batches, in order, all or none, on a
real SQLite file and the session's real PostgreSQL (where the PostgreSQL path is one statement in
autocommit on a held connection)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import Engine, func, select

from checkd import store
from checkd.models import check_disks, check_services, checks
from checkd.probes import Check

from .test_checks import comparable, make_check


def _mixed_batch() -> list[Check]:
    """Checks with 0, 1 and 2 disks, 0 to 3 services and failed probes, in one batch."""
    batch = [
        make_check(0, disks=(), services={}),
        make_check(1, disks=("/", "/var"), services={"httpd": "active", "sshd": "failed", "cron": "unknown"}),
        make_check(2, cpu=None, services={"httpd": "inactive"}),
        make_check(3, disks=("/var",), services={"sshd": "not-found"}),
    ]
    batch[3].memory = None
    batch[3].load = None
    return batch


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_mixed_batch_round_trips_in_order(engine: Engine) -> None:
    writer = store.CheckWriter(engine=engine, host="h")
    batch = _mixed_batch()
    try:
        ids = writer.write(batch)
    finally:
        writer.close()
    assert ids == sorted(ids) and len(set(ids)) == len(batch)
    assert [c.id for c in batch] == ids and {c.host for c in batch} == {"h"}
    with engine.connect() as conn:
        for check in batch:
            got = store.get_check(conn=conn, check_id=check.id)  # type: ignore[arg-type]
            assert got is not None and comparable(got) == comparable(check)
        assert store.host_summaries(conn=conn) == [("h", int(batch[-1].taken_at), len(batch))]


def test_one_check_a_write_keeps_the_counter_and_ids_increasing(engine: Engine) -> None:
    writer = store.CheckWriter(engine=engine, host="h")
    try:
        ids = [writer.write([make_check(i)])[0] for i in range(20)]
    finally:
        writer.close()
    assert ids == sorted(ids)
    with engine.connect() as conn:
        assert store.host_summaries(conn=conn)[0][2] == 20
    assert _count(engine, check_disks) == 20 and _count(engine, check_services) == 20


def test_a_batch_that_fails_writes_nothing_and_the_next_write_succeeds(engine: Engine) -> None:
    writer = store.CheckWriter(engine=engine, host="h")
    good, bad = make_check(0), make_check(1, disks=("/", "/"))  # the same path twice: a key violation
    try:
        with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):
            writer.write([good, bad])
        assert _count(engine, checks) == 0 and _count(engine, check_disks) == 0
        assert writer.write([good]) == [good.id]
    finally:
        writer.close()
    with engine.connect() as conn:
        assert store.host_summaries(conn=conn)[0][2] == 1


def test_postgresql_writer_reconnects_after_its_connection_is_killed(pg_engine: Engine) -> None:
    """Only PostgreSQL holds a connection between writes; SQLite opens one per batch."""
    engine = pg_engine
    writer = store.CheckWriter(engine=engine, host="h")
    try:
        writer.write([make_check(0)])
        with engine.connect() as conn:
            killed = conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
            ).all()
        assert killed and all(ok for (ok,) in killed)
        with pytest.raises(psycopg.OperationalError):
            writer.write([make_check(1)])
        writer.write([make_check(1)])
    finally:
        writer.close()
    with engine.connect() as conn:
        assert [int(c.taken_at) for c in store.list_checks(conn=conn, host="h")] == [
            int(make_check(1).taken_at),
            int(make_check(0).taken_at),
        ]


def test_a_name_first_seen_mid_life_is_learned_and_nothing_is_written_twice(engine: Engine) -> None:
    """The writer takes ids from the cache of committed ids; a new disk path or service makes the
    first attempt miss before anything is kept, and the batch is then written once."""
    writer = store.CheckWriter(engine=engine, host="h")
    try:
        writer.write([make_check(0)])
        writer.write([make_check(1), make_check(2, disks=("/", "/srv"), services={"sshd": "active"})])
    finally:
        writer.close()
    assert _count(engine, checks) == 3 and _count(engine, check_disks) == 4
    assert _count(engine, check_services) == 3
