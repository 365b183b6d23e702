"""Ids of hosts, disk paths, services, devices, endpoint checks and metrics: get-or-create, cached.

The cache holds only ids of committed rows: an id learned inside a transaction is published
when that transaction commits and dropped if it rolls back (a cached id of a rolled-back row
would break every later write's foreign key). `engine.dispose()` empties the engine's cache,
since the database behind it may have been replaced; so does `forget(engine)`, which a writer
calls after a failed write."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping

from sqlalchemy import Connection, Engine, Table, event, select

from checkd.models import device_names, disk_paths, hosts, metric_names, probe_names, service_names
from checkd.store.backends import backend_for

_Key = tuple[str, str]  # (table name, value)
_lock = threading.Lock()
# Keyed by the engine object itself (weakly): id(engine) could be reused by a later engine.
_committed: weakref.WeakKeyDictionary[Engine, dict[_Key, int]] = weakref.WeakKeyDictionary()
# Ids learned in a transaction not yet committed, per connection.
_pending: weakref.WeakKeyDictionary[Connection, dict[_Key, int]] = weakref.WeakKeyDictionary()


def cached_id(engine: Engine, table: Table, value: str) -> int | None:
    """The committed id of `value` in `table` if this process has seen it; no SQL."""
    return _committed.get(engine, {}).get((table.name, value))


def known_ids(engine: Engine) -> Mapping[tuple[str, str], int]:
    """The live cache of `engine`'s committed ids, keyed by (table name, value): no SQL, no copy;
    the same object for the engine's whole life (`forget` empties it in place)."""
    return _cache_of(engine)


def forget(engine: Engine) -> None:
    """Drop every cached id of `engine` (its database may no longer hold them)."""
    with _lock:
        found = _committed.get(engine)
        if found is not None:
            found.clear()


def _cache_of(engine: Engine) -> dict[_Key, int]:
    with _lock:
        found = _committed.get(engine)
        if found is None:
            found = _committed[engine] = {}
            event.listen(engine, "engine_disposed", forget)
            event.listen(engine, "commit", _publish)
            event.listen(engine, "rollback", _drop)
        return found


def _publish(conn: Connection) -> None:
    learned = _pending.pop(conn, None)
    if learned:
        cache = _cache_of(conn.engine)
        with _lock:
            cache.update(learned)


def _drop(conn: Connection) -> None:
    _pending.pop(conn, None)


def _learned(conn: Connection, key: _Key, found: int) -> None:
    """Publish `found` now if `conn` is outside a transaction, else when its transaction commits."""
    cache = _cache_of(conn.engine)  # also makes sure the commit/rollback listeners are there
    if conn.in_transaction():
        _pending.setdefault(conn, {})[key] = found
    else:
        with _lock:
            cache[key] = found


def _get_or_create(conn: Connection, table: Table, column: str, value: str) -> int:
    key = (table.name, value)
    known = _committed.get(conn.engine, {}).get(key)
    if known is None:
        known = _pending.get(conn, {}).get(key)
    if known is not None:
        return known
    col = table.c[column]
    found = conn.execute(select(table.c.id).where(col == value)).scalar()
    if found is None:
        # ON CONFLICT DO NOTHING: many checkd processes may register the same name at once.
        conn.execute(backend_for(conn).insert_missing(table, {column: value}))
        found = conn.execute(select(table.c.id).where(col == value)).scalar_one()
    _learned(conn, key, int(found))
    return int(found)


def _lookup(conn: Connection, table: Table, column: str, value: str) -> int | None:
    known = cached_id(conn.engine, table, value)
    if known is not None:
        return known
    found = conn.execute(select(table.c.id).where(table.c[column] == value)).scalar()
    return None if found is None else int(found)


def host_id(*, conn: Connection, name: str, create: bool = True) -> int | None:
    """The id of host `name`; None when it is unknown and `create` is False."""
    if create:
        return _get_or_create(conn, hosts, "name", name)
    return _lookup(conn, hosts, "name", name)


def path_id(*, conn: Connection, path: str) -> int:
    """The id of disk path `path`, created on first use."""
    return _get_or_create(conn, disk_paths, "path", path)


def service_id(*, conn: Connection, name: str) -> int:
    """The id of service name `name`, created on first use."""
    return _get_or_create(conn, service_names, "name", name)


def device_id(*, conn: Connection, name: str) -> int:
    """The id of network interface or block device `name`, created on first use."""
    return _get_or_create(conn, device_names, "name", name)


def probe_id(*, conn: Connection, name: str) -> int:
    """The id of endpoint check `name`, created on first use."""
    return _get_or_create(conn, probe_names, "name", name)


def metric_id(*, conn: Connection, name: str, create: bool = True) -> int | None:
    """The id of rollup metric `name` (e.g. "cpu_percent", "disk_percent:/"); None if unknown."""
    if create:
        return _get_or_create(conn, metric_names, "name", name)
    return _lookup(conn, metric_names, "name", name)


def lookup_id(*, conn: Connection, table: Table, column: str, value: str) -> int | None:
    """The id of an existing dimension row, or None (never creates one)."""
    return _lookup(conn, table, column, value)
