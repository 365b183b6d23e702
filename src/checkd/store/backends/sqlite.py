"""SQLite's hot paths: prepared DB-API statements on the `sqlite3` connection, no SQLAlchemy per row.

SQLAlchemy's per-statement work costs many times what these statements cost once a second
(bench/write_floor.py); the fold runs once a minute in the server and, through Core, compiled
its statements anew in each process. Table and column names are this module's constants, never
input; every value goes through a `?` parameter."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from checkd import models
from checkd.db import SQLITE_BUSY_TIMEOUT_MS
from checkd.probes import Check
from checkd.store import backends, codec
from checkd.store.backends import Buckets, FoldStatements, IdsOf, Row
from checkd.store.pacing import WRITER_BUSY_TIMEOUT_MS

_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes (extended codes add high bits)


def _plain_insert(table: Table, columns: Sequence[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


_CHECK = _plain_insert(models.checks, ["host_id", *backends.CHECK_COLUMNS])
_DISK = _plain_insert(models.check_disks, backends.DISK_COLUMNS)
_SERVICE = _plain_insert(models.check_services, backends.SERVICE_COLUMNS)
_NET = _plain_insert(models.check_net, backends.NET_COLUMNS)
_NET_FAULTS = _plain_insert(models.check_net_faults, backends.NET_FAULT_COLUMNS)
_DISK_IO = _plain_insert(models.check_disk_io, backends.DISK_IO_COLUMNS)
_PROBE = _plain_insert(models.check_probes, backends.PROBE_COLUMNS)

_HOST = "SELECT id FROM hosts WHERE name = ?"
_WATERMARK = "SELECT last_check_id FROM rollup_progress WHERE host_id = ?"
# A write that changes nothing, so the transaction takes SQLite's write lock before it reads the
# watermark (pysqlite begins a transaction only at the first write: a fold that read first could
# fold on a stale watermark after waiting for another fold of the same host).
_LOCK = "UPDATE rollup_progress SET last_check_id = last_check_id WHERE host_id = ?"
_TAKEN_AT = "SELECT taken_at FROM checks WHERE id = ?"
_NEW_CHECKS = (
    f"SELECT id, taken_at, {', '.join(backends.FOLDED_CHECK_COLUMNS)} FROM checks"  # noqa: S608
    " WHERE host_id = ? AND taken_at >= ? AND id > ? ORDER BY taken_at, id LIMIT ?"
)


@functools.cache
def _children_sql(table: Table, columns: tuple[str, ...]) -> str:
    cols = ", ".join(f"x.{c}" for c in columns)
    return (
        f"SELECT x.check_id, {cols} FROM {table.name} x JOIN checks c ON c.id = x.check_id"  # noqa: S608
        " WHERE c.host_id = ? AND c.taken_at BETWEEN ? AND ? AND c.id > ?"
    )


_UPSERT = (
    "INSERT INTO rollups (tier, host_id, metric_id, bucket, min, max, total, count)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tier, host_id, metric_id, bucket) DO UPDATE SET"
    " min = min(rollups.min, excluded.min), max = max(rollups.max, excluded.max),"
    " total = rollups.total + excluded.total, count = rollups.count + excluded.count"
)
_COUNT = "UPDATE hosts SET checks_count = checks_count + ? WHERE id = ?"
_SET_WATERMARK = (
    "INSERT INTO rollup_progress (host_id, last_check_id) VALUES (?, ?)"
    " ON CONFLICT (host_id) DO UPDATE SET last_check_id = excluded.last_check_id"
)


def _rows(cursor: Any, host_id: int, ids_of: IdsOf, items: Sequence[Check]) -> list[int]:
    """Execute the rows of `items` on a sqlite3 cursor (the caller owns the transaction)."""
    path_id, service_id, device_id, probe_id = ids_of
    ids: list[int] = []
    disk_rows: list[tuple[Any, ...]] = []
    service_rows: list[tuple[Any, ...]] = []
    net_rows: list[tuple[Any, ...]] = []
    fault_rows: list[tuple[Any, ...]] = []
    io_rows: list[tuple[Any, ...]] = []
    probe_rows: list[tuple[Any, ...]] = []
    for check in items:
        cursor.execute(_CHECK, (host_id, *codec.check_values(check)))
        new_id = int(cursor.lastrowid)
        ids.append(new_id)
        for d in check.disks:
            disk_rows.append((new_id, path_id(d.path), *codec.disk_values(d)))
        for name, state in check.services.items():
            service_rows.append((new_id, service_id(name), codec.state_code(state)))
        for n in check.net:
            net_rows.append((new_id, device_id(n.iface), *codec.net_values(n)))
            faults = codec.net_fault_values(n)
            if faults is not None:
                fault_rows.append((new_id, device_id(n.iface), *faults))
        for io in check.disk_io:
            io_rows.append((new_id, device_id(io.device), *codec.disk_io_values(io)))
        for e in check.endpoints:
            probe_rows.append((new_id, probe_id(e.name), *codec.probe_values(e)))
    children = (
        (_DISK, disk_rows),
        (_SERVICE, service_rows),
        (_NET, net_rows),
        (_NET_FAULTS, fault_rows),
        (_DISK_IO, io_rows),
        (_PROBE, probe_rows),
    )
    for sql, rows in children:
        if rows:
            cursor.executemany(sql, rows)
    return ids


class SqliteFold:
    """The fold's statements through the DB-API cursor of this transaction's SQLite connection."""

    def __init__(self, conn: Connection) -> None:
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        row = self.cursor.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _all(self, sql: str, params: tuple[Any, ...]) -> Sequence[Row]:
        return self.cursor.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    def host_id(self, host: str) -> int | None:
        """The host's id, or None."""
        found = self._one(_HOST, (host,))
        return None if found is None else int(found)

    def watermark(self, host_id: int) -> int:
        """The newest folded check id, after taking the write lock."""
        self.cursor.execute(_LOCK, (host_id,))
        return int(self._one(_WATERMARK, (host_id,)) or 0)

    def taken_at(self, check_id: int) -> int | None:
        """When `check_id` was taken."""
        found = self._one(_TAKEN_AT, (check_id,))
        return None if found is None else int(found)

    def new_checks(self, host_id: int, start: int, since: int, batch: int) -> Sequence[Row]:
        """The next checks to fold, in the host index's order."""
        return self._all(_NEW_CHECKS, (host_id, since, start, batch))

    def children(
        self, table: Table, columns: Sequence[str], host_id: int, start: int, span: tuple[int, int]
    ) -> Sequence[Row]:
        """Rows of a per-device table of the checks being folded."""
        return self._all(_children_sql(table, tuple(columns)), (host_id, *span, start))

    def names(self, table: Table, ids: set[int]) -> Sequence[Row]:
        """(id, name) of dimension rows."""
        col = "path" if table is models.disk_paths else "name"
        marks = ", ".join("?" for _ in ids)
        return self._all(f"SELECT id, {col} FROM {table.name} WHERE id IN ({marks})", tuple(ids))  # noqa: S608

    def write(self, host_id: int, buckets: Buckets, last: int, folded: int) -> None:
        """Upsert the buckets, move the watermark and the host's count."""
        rows = [(t, host_id, m, b, v[0], v[1], v[2], int(v[3])) for (t, m, b), v in buckets.items()]
        if rows:
            self.cursor.executemany(_UPSERT, rows)
        self.cursor.execute(_SET_WATERMARK, (host_id, last))
        self.cursor.execute(_COUNT, (folded, host_id))

    def close(self) -> None:
        """Close the cursor."""
        self.cursor.close()


class SqliteBackend:
    """SQLite: the `sqlite3` connection's cursor for writes and folds."""

    bulk_pauses = True  # one write lock for the whole database
    shared = False  # one process owns the file

    def try_claim(self, conn: Connection, key: int) -> bool:
        """Always True: the one process is the only claimant."""
        return True

    def release_claim(self, conn: Connection, key: int) -> None:
        """Nothing to give back."""

    def wake_agents(self, conn: Connection, host: str) -> None:
        """Nothing: SQLite has no notifications; waiting polls read every half second."""

    def listen_for_agents(
        self, engine: Engine, woken: Callable[[str | None], None], fault: Callable[[str], None]
    ) -> None:
        """None: nothing to hear (see wake_agents)."""

    def begin_bulk(self, conn: Connection) -> None:
        """BEGIN IMMEDIATE: take the write lock before the first read, so the transaction never
        has to upgrade a stale read snapshot (which fails at once instead of waiting)."""
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def is_lock_wait(self, exc: BaseException) -> bool:
        """SQLITE_BUSY or SQLITE_LOCKED (by its error code, or its message where there is none)."""
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        if not isinstance(orig, sqlite3.OperationalError):
            return False
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
        return "database is locked" in str(orig)

    def insert_missing(self, table: Table, values: dict[str, Any]) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING."""
        return sqlite.insert(table).values(values).on_conflict_do_nothing()

    def write_checks(
        self, conn: Connection, host_id: int, ids_of: IdsOf, items: Sequence[Check]
    ) -> list[int]:
        """The rows on the transaction's own cursor."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            return _rows(cursor, host_id, ids_of, items)
        finally:
            cursor.close()

    def hold(self, engine: Engine) -> Connection:
        """A plain connection (each batch is its own short transaction on it) with short lock waits,
        retried by the sampler: a long one would sleep through the bulk writers' pauses."""
        held = engine.connect()
        held.exec_driver_sql(f"PRAGMA busy_timeout={WRITER_BUSY_TIMEOUT_MS}")
        held.commit()
        return held

    def unhold(self, held: Connection) -> None:
        """Back to the pool's busy timeout for its other users."""
        held.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        held.commit()

    def write_batch(self, held: Connection, host_id: int, ids_of: IdsOf, items: Sequence[Check]) -> list[int]:
        """One transaction on the held `sqlite3` connection: committed, or rolled back and raised."""
        raw: Any = held.connection.driver_connection
        cursor = raw.cursor()
        try:
            ids = _rows(cursor, host_id, ids_of, items)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            cursor.close()
        return ids

    def fold_statements(self, conn: Connection) -> FoldStatements:
        """Plain SQL on the transaction's cursor."""
        return SqliteFold(conn)

    def make_partitions(self, conn: Connection, now: int) -> int:
        """None to make: SQLite has no partitions."""
        return 0

    def drop_partition(self, conn: Connection, cutoff: int) -> int | None:
        """None to drop."""
        return None

    def row_cutoff(self, conn: Connection, cutoff: int) -> int:
        """Every check past retention is deleted row by row."""
        return cutoff


BACKEND = SqliteBackend()
