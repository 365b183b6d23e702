"""Checks pushed by fleet agents: stored once per (host, seq), whichever collector takes the batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from checkd.models import ingest_progress
from checkd.probes import Check
from checkd.store import dims
from checkd.store.backends import backend_for
from checkd.store.ingest import insert_checks


def store_pushed(
    *, conn: Connection, host: str, items: Sequence[tuple[int, Check]]
) -> tuple[list[Check], int]:
    """Insert `host`'s (seq, check) pairs above its stored sequence number, in seq order, as one
    statement, and move the number, inside the caller's transaction; return (stored, duplicates).

    The host's progress row is locked first (FOR UPDATE on PostgreSQL, the write lock on SQLite),
    so two collectors given the same retried batch store it once."""
    host_id = dims.host_id(conn=conn, name=host)
    assert host_id is not None
    conn.execute(backend_for(conn).insert_missing(ingest_progress, {"host_id": host_id, "last_seq": 0}))
    last = conn.execute(
        select(ingest_progress.c.last_seq).where(ingest_progress.c.host_id == host_id).with_for_update()
    ).scalar_one()
    fresh: dict[int, Check] = {}
    for seq, check in items:
        if seq > last and seq not in fresh:
            fresh[seq] = check
    ordered = [fresh[seq] for seq in sorted(fresh)]
    if ordered:
        insert_checks(conn=conn, host=host, items=ordered)
        conn.execute(
            update(ingest_progress).where(ingest_progress.c.host_id == host_id).values(last_seq=max(fresh))
        )
    return ordered, len(items) - len(ordered)


def pushed_seq(*, conn: Connection, host: str) -> int | None:
    """The newest sequence number stored for `host`, or None when it never pushed."""
    host_id = dims.host_id(conn=conn, name=host, create=False)
    if host_id is None:
        return None
    found = conn.execute(
        select(ingest_progress.c.last_seq).where(ingest_progress.c.host_id == host_id)
    ).scalar()
    return None if found is None else int(found)
