"""Writes of checks with their disks and services: the sampler's `CheckWriter` and `insert_checks`."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event

from checkd.db import SQLITE_BUSY_TIMEOUT_MS
from checkd.models import check_disks, check_services, checks
from checkd.probes import Check
from checkd.store import codec, dims
from checkd.store.pacing import WRITER_BUSY_TIMEOUT_MS, is_lock_wait

_CHECK_COLUMNS = list(codec.CHECK_COLUMNS)
_DISK_COLUMNS = ["check_id", "path_id", *codec.DISK_COLUMNS]
_SERVICE_COLUMNS = ["check_id", "service_id", "state"]
assert [c.name for c in checks.c] == ["id", "host_id", *_CHECK_COLUMNS], "codec.CHECK_COLUMNS is stale"


def _plain_insert(table: Any, columns: Sequence[str]) -> str:
    # Names are this module's own constants (never input); values go through ? parameters.
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


_SQLITE_CHECK = _plain_insert(checks, ["host_id", *_CHECK_COLUMNS])
_SQLITE_DISK = _plain_insert(check_disks, _DISK_COLUMNS)
_SQLITE_SERVICE = _plain_insert(check_services, _SERVICE_COLUMNS)

# PostgreSQL: a whole batch (checks, disks, services) in ONE statement, so a
# one-check flush is one round trip and atomic without BEGIN/COMMIT. Ids are drawn first, in
# order, so children can join their check by position (`ord`) and ids follow the batch order.
_PG_TYPES = {
    "taken_at": "bigint",
    "cpu_pct": "smallint",
    "load1": "integer",
    "load5": "integer",
    "load15": "integer",
    "mem_total_kib": "bigint",
    "mem_available_kib": "bigint",
    "mem_used_kib": "bigint",
    "mem_pct": "smallint",
}
assert list(_PG_TYPES) == _CHECK_COLUMNS, "keep _PG_TYPES in the order of the checks table"
_PG_INSERT = f"""
WITH ids AS MATERIALIZED (
  SELECT nextval('checks_id_seq') AS id, ord FROM generate_series(1, %(n)s::integer) AS ord
), c AS (
  INSERT INTO checks (id, host_id, {", ".join(_CHECK_COLUMNS)})
  SELECT ids.id, %(host_id)s::integer, {", ".join("v." + c for c in _CHECK_COLUMNS)}
  FROM unnest({", ".join(f"%({c})s::{t}[]" for c, t in _PG_TYPES.items())})
       WITH ORDINALITY AS v({", ".join(_CHECK_COLUMNS)}, ord)
  JOIN ids USING (ord)
), d AS (
  INSERT INTO check_disks ({", ".join(_DISK_COLUMNS)})
  SELECT ids.id, x.path_id, x.total_kib, x.used_kib, x.free_kib, x.pct
  FROM unnest(%(d_ord)s::integer[], %(d_path)s::integer[], %(d_total)s::bigint[],
              %(d_used)s::bigint[], %(d_free)s::bigint[], %(d_pct)s::smallint[])
       AS x(ord, path_id, total_kib, used_kib, free_kib, pct)
  JOIN ids USING (ord)
), s AS (
  INSERT INTO check_services ({", ".join(_SERVICE_COLUMNS)})
  SELECT ids.id, y.service_id, y.state
  FROM unnest(%(s_ord)s::integer[], %(s_id)s::integer[], %(s_state)s::smallint[])
       AS y(ord, service_id, state)
  JOIN ids USING (ord)
)
SELECT id FROM ids ORDER BY ord
"""  # noqa: S608  (names are constants above; every value is a bound parameter)
_PG_DISK_TYPES = ("integer", "bigint", "bigint", "bigint", "smallint")  # path_id, then DISK_COLUMNS


@functools.cache
def _pg_insert_one(n_disks: int, n_services: int) -> str:
    """The same for one check with `n_disks` disks and `n_services` services: the sampler's steady
    state. Plain VALUES and scalar parameters: about half the CPU of the general form on both
    sides (bench/fleet_ingest.py). A host's checks all have one shape, so one prepared statement."""
    # Only this module's constants and %s placeholders are formatted in (S608); values are bound.
    values = ", ".join(f"%s::{t}" for t in _PG_TYPES.values())
    sql = [
        f"WITH c AS (INSERT INTO checks (host_id, {', '.join(_CHECK_COLUMNS)})"  # noqa: S608
        f" VALUES (%s::integer, {values}) RETURNING id)"
    ]
    if n_disks:
        row = "(" + ", ".join(f"%s::{t}" for t in _PG_DISK_TYPES) + ")"
        sql.append(
            f", d AS (INSERT INTO check_disks ({', '.join(_DISK_COLUMNS)})"  # noqa: S608
            f" SELECT c.id, v.* FROM c, (VALUES {', '.join([row] * n_disks)}) AS v)"
        )
    if n_services:
        row = "(%s::integer, %s::smallint)"
        sql.append(
            f", s AS (INSERT INTO check_services ({', '.join(_SERVICE_COLUMNS)})"  # noqa: S608
            f" SELECT c.id, v.* FROM c, (VALUES {', '.join([row] * n_services)}) AS v)"
        )
    sql.append(" SELECT id FROM c")
    return "".join(sql)


def insert_checks(*, conn: Connection, host: str, items: Sequence[Check]) -> list[int]:
    """Insert `items` for `host` in order (the caller's transaction, if any); return their new ids."""
    hid = dims.host_id(conn=conn, name=host)
    assert hid is not None
    if not items:
        return []

    def path_id(path: str) -> int:
        return dims.path_id(conn=conn, path=path)

    def service_id(name: str) -> int:
        return dims.service_id(conn=conn, name=name)

    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            ids = _sqlite_rows(cursor, hid, path_id, service_id, items)
        finally:
            cursor.close()
    else:
        ids = _pg_rows(driver, hid, path_id, service_id, items)
    for check, new_id in zip(items, ids, strict=True):
        check.id, check.host = new_id, host
    return ids


def _state_code(state: str) -> int:
    return codec.STATE_CODE.get(state, codec.STATE_CODE["unknown"])


def _sqlite_rows(
    cursor: Any,
    hid: int,
    path_id: Callable[[str], int],
    service_id: Callable[[str], int],
    items: Sequence[Check],
) -> list[int]:
    """Execute the rows of `items` on a sqlite3 cursor (the caller owns the transaction).

    This is the sampler's hot path: SQLAlchemy's per-statement work cost 0.60 ms of CPU per check
    against 0.04 ms for these statements (bench/write_floor.py)."""
    ids: list[int] = []
    disk_rows: list[tuple[Any, ...]] = []
    service_rows: list[tuple[Any, ...]] = []
    for check in items:
        cursor.execute(_SQLITE_CHECK, (hid, *codec.check_values(check)))
        new_id = int(cursor.lastrowid)
        ids.append(new_id)
        for d in check.disks:
            disk_rows.append((new_id, path_id(d.path), *codec.disk_values(d)))
        for name, state in check.services.items():
            service_rows.append((new_id, service_id(name), _state_code(state)))
    if disk_rows:
        cursor.executemany(_SQLITE_DISK, disk_rows)
    if service_rows:
        cursor.executemany(_SQLITE_SERVICE, service_rows)
    return ids


def _pg_rows(
    driver: Any,
    hid: int,
    path_id: Callable[[str], int],
    service_id: Callable[[str], int],
    items: Sequence[Check],
) -> list[int]:
    """Execute the batch's one statement on a psycopg connection; return the new ids in order."""
    if len(items) == 1:
        (check,) = items
        sql = _pg_insert_one(len(check.disks), len(check.services))
        values: list[Any] = [hid, *codec.check_values(check)]
        for d in check.disks:
            values.extend((path_id(d.path), *codec.disk_values(d)))
        for name, state in check.services.items():
            values.extend((service_id(name), _state_code(state)))
        params: list[Any] | dict[str, Any] = values
    else:
        sql, params = _PG_INSERT, _batch_params(hid, path_id, service_id, items)
    with driver.cursor() as cursor:
        # prepare=True: parsed and planned once per connection, then only Bind/Execute.
        cursor.execute(sql, params, prepare=True)
        return [int(row[0]) for row in cursor.fetchall()]


def _batch_params(
    hid: int, path_id: Callable[[str], int], service_id: Callable[[str], int], items: Sequence[Check]
) -> dict[str, Any]:
    """_PG_INSERT's parameters: one array per column, children tagged with their check's position."""
    columns: list[list[Any]] = [[] for _ in _CHECK_COLUMNS]
    disks: list[list[Any]] = [[] for _ in range(6)]  # ord, path_id, DISK_COLUMNS
    services: list[list[Any]] = [[], [], []]  # ord, service_id, state
    for ord_, check in enumerate(items, start=1):
        for column, value in zip(columns, codec.check_values(check), strict=True):
            column.append(value)
        for d in check.disks:
            row = (ord_, path_id(d.path), *codec.disk_values(d))
            for column, value in zip(disks, row, strict=True):
                column.append(value)
        for name, state in check.services.items():
            row = (ord_, service_id(name), _state_code(state))
            for column, value in zip(services, row, strict=True):
                column.append(value)
    params: dict[str, Any] = dict(zip(_CHECK_COLUMNS, columns, strict=True))
    params.update(zip(("d_ord", "d_path", "d_total", "d_used", "d_free", "d_pct"), disks, strict=True))
    params.update(zip(("s_ord", "s_id", "s_state"), services, strict=True))
    params.update(n=len(items), host_id=hid)
    return params


def _in_sqlite_transaction(
    raw: Any,
    hid: int,
    path_id: Callable[[str], int],
    service_id: Callable[[str], int],
    items: Sequence[Check],
) -> list[int]:
    """The batch in one transaction on a sqlite3 connection (committed, or rolled back and raised)."""
    cursor = raw.cursor()
    try:
        ids = _sqlite_rows(cursor, hid, path_id, service_id, items)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        cursor.close()
    return ids


class CheckWriter:
    """Writes batches of one host's checks, each batch atomically: the sampler's write path.

    It holds one connection between batches, so a write skips the pool (checkout, pre-ping,
    reset-on-return: ~0.25 ms of CPU per check on SQLite when paced at 1 s). SQLite: one short
    transaction per batch on it. PostgreSQL: the batch's single statement in autocommit on it
    (no BEGIN or COMMIT: one round trip per check). Any error drops the connection, and so does
    `engine.dispose()` (the database may have been replaced); the next write opens a fresh one."""

    def __init__(self, *, engine: Engine, host: str) -> None:
        self.engine = engine
        self.host = host
        self._sqlite = engine.dialect.name == "sqlite"
        self._held: Connection | None = None
        self._stale = False
        # Ids known to be committed; forgotten with the held connection.
        self._host_id: int | None = None
        self._paths: dict[str, int] = {}
        self._services: dict[str, int] = {}
        self._lock = threading.Lock()  # the sampler thread and shutdown may both write
        event.listen(engine, "engine_disposed", self._on_dispose)

    def _on_dispose(self, _engine: Engine) -> None:
        self._stale = True  # read by the writing thread; a bool store is atomic

    def write(self, items: Sequence[Check]) -> list[int]:
        """Store `items` in order, all or none; set their ids and return them."""
        with self._lock:
            try:
                held = self._connection()
                self._learn_ids(held, items)
                assert self._host_id is not None
                raw = held.connection.driver_connection
                paths, services = self._paths.__getitem__, self._services.__getitem__
                if self._sqlite:
                    ids = _in_sqlite_transaction(raw, self._host_id, paths, services, items)
                else:  # autocommit: the one statement is the transaction
                    ids = _pg_rows(raw, self._host_id, paths, services, items)
            except Exception as exc:
                if not is_lock_wait(exc):  # a lock wait leaves the connection as good as it was
                    self._release(invalidate=True)
                raise
        for check, new_id in zip(items, ids, strict=True):
            check.id, check.host = new_id, self.host
        return ids

    def _learn_ids(self, held: Connection, items: Sequence[Check]) -> None:
        """Get or create (committed) the ids of names not seen before; writes then skip
        SQLAlchemy and dims entirely (0.13 ms less CPU per check on SQLite when paced at 1 s)."""
        paths, services = self._paths, self._services
        if (
            self._host_id is not None
            and all(d.path in paths for c in items for d in c.disks)
            and all(name in services for c in items for name in c.services)
        ):
            return
        with held.begin():
            self._host_id = dims.host_id(conn=held, name=self.host)
            for c in items:
                for d in c.disks:
                    paths[d.path] = dims.path_id(conn=held, path=d.path)
                for name in c.services:
                    services[name] = dims.service_id(conn=held, name=name)

    def _connection(self) -> Connection:
        if self._stale:
            self._stale = False
            self._release(invalidate=True)
        if self._held is None:
            conn = self.engine.connect()
            if self._sqlite:
                # Short lock waits, retried by the caller: a long one would sleep through the
                # bulk writers' pauses (store.pacing).
                conn.exec_driver_sql(f"PRAGMA busy_timeout={WRITER_BUSY_TIMEOUT_MS}")
                conn.commit()
            self._held = conn if self._sqlite else conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._held

    def close(self) -> None:
        """Give the held connection back (a later write opens a new one)."""
        with self._lock:
            self._release(invalidate=False)

    def _release(self, *, invalidate: bool) -> None:
        self._host_id = None
        self._paths.clear()
        self._services.clear()
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if invalidate:
                held.invalidate()
            elif self._sqlite:  # back to the pool's setting for its other users
                held.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                held.commit()
            held.close()
        except Exception:  # noqa: S110  (the connection is already broken; nothing to keep)
            pass


__all__ = ["CheckWriter", "insert_checks"]
