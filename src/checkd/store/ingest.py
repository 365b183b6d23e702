"""Writes of checks with their disks and services: the sampler's `CheckWriter` and `insert_checks`.

The rows themselves are written by the database's backend (store/backends/); this module
resolves ids and owns the writer's held connection."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, event

from checkd.models import device_names, disk_paths, hosts, probe_names, service_names
from checkd.probes import Check
from checkd.store import dims
from checkd.store.backends import IdOf, IdsOf, StoreBackend, backend_for
from checkd.store.write_turn import WriteTurn

_HOSTS, _PATHS, _SERVICES = hosts.name, disk_paths.name, service_names.name
_DEVICES, _PROBES = device_names.name, probe_names.name


class NotLearned(Exception):
    """A name in the batch has no cached id yet (`learn_ids` learns it)."""


def insert_checks(*, conn: Connection, host: str, items: Sequence[Check]) -> list[int]:
    """Insert `items` for `host` in order (the caller's transaction, if any); return their new ids."""
    hid = dims.host_id(conn=conn, name=host)
    assert hid is not None
    if not items:
        return []
    ids = backend_for(conn).write_checks(
        conn,
        hid,
        (
            lambda path: dims.path_id(conn=conn, path=path),
            lambda name: dims.service_id(conn=conn, name=name),
            lambda name: dims.device_id(conn=conn, name=name),
            lambda name: dims.probe_id(conn=conn, name=name),
        ),
        items,
    )
    for check, new_id in zip(items, ids, strict=True):
        check.id, check.host = new_id, host
    return ids


def cached_ids_of(engine: Engine) -> IdsOf:
    """Ids of disk paths, services, devices and endpoint checks from the cache of committed ids
    (no SQL); each raises NotLearned for a name not there (`learn_ids` fills it)."""
    known = dims.known_ids(engine)
    return (
        _cached_ids(known, _PATHS),
        _cached_ids(known, _SERVICES),
        _cached_ids(known, _DEVICES),
        _cached_ids(known, _PROBES),
    )


def learn_ids(*, conn: Connection, host: str, items: Sequence[Check]) -> None:
    """Get or create the ids of `host` and of every name in `items`, committed (so they are cached)."""
    with conn.begin():
        dims.host_id(conn=conn, name=host)
        for c in items:
            for d in c.disks:
                dims.path_id(conn=conn, path=d.path)
            for name in c.services:
                dims.service_id(conn=conn, name=name)
            for device in [n.iface for n in c.net] + [io.device for io in c.disk_io]:
                dims.device_id(conn=conn, name=device)
            for e in c.endpoints:
                dims.probe_id(conn=conn, name=e.name)


def _cached_ids(known: Mapping[tuple[str, str], int], table: str) -> IdOf:
    """The id of a name in `table` from the cache of committed ids; NotLearned when it is not there."""

    def id_of(name: str) -> int:
        try:
            return known[table, name]
        except KeyError:
            raise NotLearned from None

    return id_of


class CheckWriter:
    """Writes batches of one host's checks, each batch atomically: the sampler's write path.

    It holds one connection between batches, so a write skips the pool (checkout, pre-ping,
    reset-on-return: a large share of a paced write's CPU on SQLite). SQLite: one short
    transaction per batch on it. PostgreSQL: the batch's single statement in autocommit on it
    (no BEGIN or COMMIT: one round trip per check). Any error drops the connection, and so does
    `engine.dispose()` (the database may have been replaced); the next write opens a fresh one."""

    def __init__(self, *, engine: Engine, host: str) -> None:
        self.engine = engine
        self.host = host
        self._backend: StoreBackend = backend_for(engine)
        self._known = dims.known_ids(engine)  # live: filled on commit, emptied by dims.forget
        self._ids_of: IdsOf = cached_ids_of(engine)
        self._held: Connection | None = None
        self._stale = False
        self._lock = threading.Lock()  # the sampler thread and shutdown may both write
        self._turn = WriteTurn.of(engine)  # claimed while a write waits for the lock
        event.listen(engine, "engine_disposed", self._on_dispose)

    def _on_dispose(self, _engine: Engine) -> None:
        self._stale = True  # read by the writing thread; a bool store is atomic

    def write(self, items: Sequence[Check]) -> list[int]:
        """Store `items` in order, all or none; set their ids and return them."""
        with self._lock:
            try:
                held = self._connection()
                try:
                    ids = self._write(held, items)
                except NotLearned:  # a name not seen yet: learn (and commit) its id, then again
                    learn_ids(conn=held, host=self.host, items=items)
                    ids = self._write(held, items)
            except Exception as exc:
                # A lock wait leaves the connection and the ids as they were.
                if self._backend.is_lock_wait(exc):
                    self._turn.claim()  # bulk writers let the retry in (see store.write_turn)
                else:
                    self._turn.release()
                    # The database may not hold what the cache says (replaced, restored): learn anew.
                    dims.forget(self.engine)
                    self._release(invalidate=True)
                raise
            self._turn.release()
        for check, new_id in zip(items, ids, strict=True):
            check.id, check.host = new_id, self.host
        return ids

    def _write(self, held: Connection, items: Sequence[Check]) -> list[int]:
        """The batch with every id from the cache of committed ids: no SQLAlchemy, no dims SQL."""
        known = self._known

        host_id = known.get((_HOSTS, self.host))
        if host_id is None:
            raise NotLearned
        return self._backend.write_batch(held, host_id, self._ids_of, items)

    def _connection(self) -> Connection:
        if self._stale:
            self._stale = False
            self._release(invalidate=True)
        if self._held is None:
            self._held = self._backend.hold(self.engine)
        return self._held

    def is_lock_wait(self, exc: BaseException) -> bool:
        """Whether `exc`, raised by `write`, says another writer holds the lock (retry it; no fault)."""
        return self._backend.is_lock_wait(exc)

    def stop_waiting(self) -> None:
        """Let bulk writers go on: the caller gave up retrying a write that waited for the lock."""
        with self._lock:
            self._turn.release()

    def close(self) -> None:
        """Give the held connection back (a later write opens a new one)."""
        with self._lock:
            self._turn.close()
            self._release(invalidate=False)

    def _release(self, *, invalidate: bool) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if invalidate:
                held.invalidate()
            else:
                self._backend.unhold(held)
            held.close()
        except Exception:  # noqa: S110  (the connection is already broken; nothing to keep)
            pass


__all__ = ["CheckWriter", "NotLearned", "cached_ids_of", "insert_checks", "learn_ids"]
