"""Get-or-create ids for hosts, disk paths and service names (cached per engine)."""

from __future__ import annotations

import importlib
import threading
import weakref
from types import ModuleType

from sqlalchemy import Connection, Engine, Table, event, select

from checkd.models import disk_paths, hosts, metric_names, service_names

_lock = threading.Lock()
# Keyed by the engine object itself (weakly): id(engine) could be reused by a later engine.
_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], int]] = weakref.WeakKeyDictionary()


def _get_or_create(conn: Connection, table: Table, column: str, value: str) -> int:
    key = (table.name, value)
    cached = _cache.get(conn.engine, {}).get(key)
    if cached is not None:
        return cached
    col = table.c[column]
    found = conn.execute(select(table.c.id).where(col == value)).scalar()
    if found is None:
        # ON CONFLICT DO NOTHING: many checkd processes may register the same name at once.
        conn.execute(upsert_dialect(conn).insert(table).values({column: value}).on_conflict_do_nothing())
        found = conn.execute(select(table.c.id).where(col == value)).scalar_one()
        # The new row exists only if this transaction commits; were it rolled back, a cached id
        # would point at nothing and every later write would break its foreign key.
        engine = conn.engine
        event.listen(conn, "rollback", lambda _conn: _forget_engine(engine), once=True)
    with _lock:
        _cache.setdefault(conn.engine, {})[key] = int(found)
    return int(found)


def _forget_engine(engine: Engine) -> None:
    with _lock:
        _cache.pop(engine, None)


def upsert_dialect(conn: Connection) -> ModuleType:
    """The dialect module (postgresql or sqlite) whose `insert` has ON CONFLICT, for `conn`."""
    # Imported on first use, not at start: on SQLite the PostgreSQL dialect would be dead weight.
    name = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    return importlib.import_module(f"sqlalchemy.dialects.{name}")


def forget_ids() -> None:
    """Drop cached ids (after a database was recreated, e.g. in tests)."""
    with _lock:
        _cache.clear()


def host_id(*, conn: Connection, name: str, create: bool = True) -> int | None:
    """The id of host `name`; None when it is unknown and `create` is False."""
    if create:
        return _get_or_create(conn, hosts, "name", name)
    return conn.execute(select(hosts.c.id).where(hosts.c.name == name)).scalar()


def path_id(*, conn: Connection, path: str) -> int:
    """The id of disk path `path`, created on first use."""
    return _get_or_create(conn, disk_paths, "path", path)


def service_id(*, conn: Connection, name: str) -> int:
    """The id of service name `name`, created on first use."""
    return _get_or_create(conn, service_names, "name", name)


def metric_id(*, conn: Connection, name: str, create: bool = True) -> int | None:
    """The id of rollup metric `name` (e.g. "cpu_percent", "disk_percent:/"); None if unknown."""
    if create:
        return _get_or_create(conn, metric_names, "name", name)
    return conn.execute(select(metric_names.c.id).where(metric_names.c.name == name)).scalar()


def lookup_id(*, conn: Connection, table: Table, column: str, value: str) -> int | None:
    """The id of an existing dimension row, or None (never creates one)."""
    return conn.execute(select(table.c.id).where(table.c[column] == value)).scalar()
