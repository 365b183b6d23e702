"""Checks pushed by fleet agents: stored once per (host, seq), whichever collector takes the batch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, select, update

from checkd.models import hosts, ingest_progress
from checkd.probes import Check
from checkd.store import dims
from checkd.store.backends import backend_for
from checkd.store.ingest import NotLearned, cached_ids_of, insert_checks, learn_ids
from checkd.store.tokens import TokenGone, token_held

Pushed = Sequence[tuple[str, int, Check]]  # (host, seq, check) as the agent sent them


def store_batch(*, engine: Engine, pushed: Pushed, token_hash: str | None) -> tuple[list[Check], int]:
    """Store a pushed batch, all or nothing: each host's checks above its stored sequence number,
    once; return (stored, duplicates). `token_hash` is the pushing named token's (None for the
    admin token): checked inside the write, so nothing is stored once it is revoked (TokenGone)."""
    by_host: dict[str, list[tuple[int, Check]]] = {}
    for host, seq, check in pushed:
        by_host.setdefault(host, []).append((seq, check))
    if len(by_host) == 1 and engine.dialect.name == "postgresql":
        ((host, items),) = by_host.items()
        return _store_one_statement(engine, host, items, token_hash)
    stored: list[Check] = []
    duplicates = 0
    with engine.begin() as conn:  # the whole batch, or nothing
        for host, items in by_host.items():
            new, dup = store_pushed(conn=conn, host=host, items=items, token_hash=token_hash)
            stored.extend(new)
            duplicates += dup
    return stored, duplicates


def _fresh(items: Sequence[tuple[int, Check]], above: int = -1) -> tuple[list[int], list[Check]]:
    """The sequence numbers above `above` once each, in order, and their checks."""
    fresh: dict[int, Check] = {}
    for seq, check in items:
        if seq > above and seq not in fresh:
            fresh[seq] = check
    seqs = sorted(fresh)
    return seqs, [fresh[seq] for seq in seqs]


def _store_one_statement(
    engine: Engine, host: str, items: Sequence[tuple[int, Check]], token_hash: str | None
) -> tuple[list[Check], int]:
    """PostgreSQL, one host: the batch as one statement in autocommit (store/backends/pg_pushed.py)."""
    from checkd.store.backends import pg_pushed  # PostgreSQL only

    seqs, fresh = _fresh(items)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        try:
            host_id = dims.cached_id(engine, hosts, host)
            if host_id is None:
                raise NotLearned
            params = pg_pushed.pushed_params(host_id, cached_ids_of(engine), seqs, fresh, token_hash)
        except NotLearned:  # a name not seen yet: learn (and commit) its id, then again
            learn_ids(conn=conn, host=host, items=fresh)
            host_id = dims.cached_id(engine, hosts, host)
            assert host_id is not None
            params = pg_pushed.pushed_params(host_id, cached_ids_of(engine), seqs, fresh, token_hash)
        written = pg_pushed.write_pushed(conn, params)
        if written.token_ok and not written.has_progress:  # the host's first push ever
            pg_pushed.add_progress(conn, host_id)
            written = pg_pushed.write_pushed(conn, params)
    if not written.token_ok:
        raise TokenGone
    stored = [fresh[o - 1] for o in written.ords]
    for check, new_id in zip(stored, written.ids, strict=True):
        check.id, check.host = new_id, host
    return stored, len(items) - len(stored)


def store_pushed(
    *, conn: Connection, host: str, items: Sequence[tuple[int, Check]], token_hash: str | None = None
) -> tuple[list[Check], int]:
    """Insert `host`'s (seq, check) pairs above its stored sequence number, in seq order, as one
    statement, and move the number, inside the caller's transaction; return (stored, duplicates).

    The host's progress row is locked first (FOR UPDATE on PostgreSQL, the write lock on SQLite),
    so two collectors given the same retried batch store it once. Then the pushing token must
    still exist (TokenGone, and the caller's transaction rolls back)."""
    host_id = dims.host_id(conn=conn, name=host)
    assert host_id is not None
    conn.execute(backend_for(conn).insert_missing(ingest_progress, {"host_id": host_id, "last_seq": 0}))
    last = conn.execute(
        select(ingest_progress.c.last_seq).where(ingest_progress.c.host_id == host_id).with_for_update()
    ).scalar_one()
    if not conn.execute(select(token_held(token_hash, lock=True))).scalar_one():
        raise TokenGone
    seqs, ordered = _fresh(items, last)
    if ordered:
        insert_checks(conn=conn, host=host, items=ordered)
        conn.execute(
            update(ingest_progress).where(ingest_progress.c.host_id == host_id).values(last_seq=seqs[-1])
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
