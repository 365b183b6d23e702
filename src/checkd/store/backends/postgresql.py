"""PostgreSQL's hot paths: a batch of checks as ONE prepared statement; the fold through Core.

One statement per batch (checks, disks and services together) makes a one-check write one
round trip, atomic without BEGIN/COMMIT, so the writer runs it in autocommit. Column types
come from the models, compiled for this dialect; values are always bound parameters."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, func, select, text, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

from checkd import models
from checkd.models import checks, hosts, rollup_progress, rollups
from checkd.probes import Check
from checkd.store import codec
from checkd.store.backends import (
    CHECK_COLUMNS,
    DISK_COLUMNS,
    DISK_IO_COLUMNS,
    FOLDED_CHECK_COLUMNS,
    NET_COLUMNS,
    NET_FAULT_COLUMNS,
    PROBE_COLUMNS,
    SERVICE_COLUMNS,
    Buckets,
    FoldStatements,
    IdsOf,
    Row,
    pg_partitions,
)
from checkd.store.backends.pg_notify import AgentsListener, notify_agents

log = logging.getLogger(__name__)

STEP_PAUSE_S = 0.2  # between tries of a retention step that waited too long for a lock (times the try)
# SQLAlchemy leaves the dialect's __init__ untyped.
# The advisory-lock key space of fleet hosts' alert claims (the key is the host id).
HOST_CLAIMS = 0x636B_6661
_DIALECT = PGDialect()  # type: ignore[no-untyped-call]


def _types(table: Table, columns: Sequence[str]) -> list[str]:
    return [table.c[name].type.compile(dialect=_DIALECT).lower() for name in columns]


_CHECK_TYPES = _types(checks, CHECK_COLUMNS)
_HOST_TYPE = _types(checks, ["host_id"])[0]


class _Child(NamedTuple):
    """A per-check child table: its columns after check_id (a dimension id first) and their types."""

    table: Table
    columns: list[str]
    types: list[str]
    tag: str  # parameter name prefix in the batch statement


def _child(table: Table, columns: Sequence[str], tag: str) -> _Child:
    return _Child(table, list(columns[1:]), _types(table, columns[1:]), tag)


# In the order of _child_rows.
_CHILDREN = (
    _child(models.check_disks, DISK_COLUMNS, "d"),
    _child(models.check_services, SERVICE_COLUMNS, "s"),
    _child(models.check_net, NET_COLUMNS, "n"),
    _child(models.check_net_faults, NET_FAULT_COLUMNS, "nf"),
    _child(models.check_disk_io, DISK_IO_COLUMNS, "io"),
    _child(models.check_probes, PROBE_COLUMNS, "p"),
)


def _child_rows(check: Check, ids_of: IdsOf) -> tuple[list[tuple[Any, ...]], ...]:
    """The rows of each child table of `check` (without check_id), in _CHILDREN's order."""
    path_id, service_id, device_id, probe_id = ids_of
    return (
        [(path_id(d.path), *codec.disk_values(d)) for d in check.disks],
        [(service_id(name), codec.state_code(state)) for name, state in check.services.items()],
        [(device_id(n.iface), *codec.net_values(n)) for n in check.net],
        [(device_id(n.iface), *f) for n in check.net if (f := codec.net_fault_values(n)) is not None],
        [(device_id(io.device), *codec.disk_io_values(io)) for io in check.disk_io],
        [(probe_id(e.name), *codec.probe_values(e)) for e in check.endpoints],
    )


def _unnest(names: Sequence[str], types: Sequence[str]) -> str:
    return ", ".join(f"%({n})s::{t}[]" for n, t in zip(names, types, strict=True))


def _params(child: _Child) -> list[str]:
    return [f"{child.tag}_{i}" for i in range(len(child.columns))]


def _batch_cte(child: _Child) -> str:
    cols = ", ".join(child.columns)
    return (
        f", {child.tag} AS (INSERT INTO {child.table.name} (check_id, {cols})"  # noqa: S608
        f" SELECT ids.id, {', '.join('x.' + c for c in child.columns)}"
        f" FROM unnest(%({child.tag}_ord)s::integer[], {_unnest(_params(child), child.types)})"
        f" AS x(ord, {cols}) JOIN ids USING (ord))"
    )


# A batch of any size: ids are drawn first, in order, so the children join their check by
# position (`ord`) and ids follow the batch's order.
_BATCH_INSERT = f"""
WITH ids AS MATERIALIZED (
  SELECT nextval('checks_id_seq') AS id, ord FROM generate_series(1, %(n)s::integer) AS ord
), c AS (
  INSERT INTO checks (id, host_id, {", ".join(CHECK_COLUMNS)})
  SELECT ids.id, %(host_id)s::{_HOST_TYPE}, {", ".join("v." + c for c in CHECK_COLUMNS)}
  FROM unnest({_unnest(CHECK_COLUMNS, _CHECK_TYPES)})
       WITH ORDINALITY AS v({", ".join(CHECK_COLUMNS)}, ord)
  JOIN ids USING (ord)
){"".join(_batch_cte(child) for child in _CHILDREN)}
SELECT id FROM ids ORDER BY ord
"""  # noqa: S608  (names and types are the models' own; every value is a bound parameter)


@functools.cache
def _one_insert(counts: tuple[int, ...]) -> str:
    """The same for one check with `counts` rows in each child table: the sampler's steady state.
    Plain VALUES and scalar parameters are cheaper than arrays on both sides
    (bench/fleet_ingest.py); a host's checks all have one shape, so one prepared statement."""
    values = ", ".join(f"%s::{t}" for t in _CHECK_TYPES)
    sql = [
        f"WITH c AS (INSERT INTO checks (host_id, {', '.join(CHECK_COLUMNS)})"  # noqa: S608
        f" VALUES (%s::{_HOST_TYPE}, {values}) RETURNING id)"
    ]
    for child, n in zip(_CHILDREN, counts, strict=True):
        if n:
            row = "(" + ", ".join(f"%s::{t}" for t in child.types) + ")"
            sql.append(
                f", {child.tag} AS (INSERT INTO {child.table.name} (check_id, {', '.join(child.columns)})"  # noqa: S608
                f" SELECT c.id, v.* FROM c, (VALUES {', '.join([row] * n)}) AS v)"
            )
    sql.append(" SELECT id FROM c")
    return "".join(sql)


def _batch_params(host_id: int, ids_of: IdsOf, items: Sequence[Check]) -> dict[str, Any]:
    """_BATCH_INSERT's parameters: one array per column, children tagged with their check's position."""
    columns: list[list[Any]] = [[] for _ in CHECK_COLUMNS]
    children: list[list[list[Any]]] = [[[] for _ in range(1 + len(c.columns))] for c in _CHILDREN]
    for ord_, check in enumerate(items, start=1):
        for column, value in zip(columns, codec.check_values(check), strict=True):
            column.append(value)
        for arrays, rows in zip(children, _child_rows(check, ids_of), strict=True):
            for row in rows:
                for array, value in zip(arrays, (ord_, *row), strict=True):
                    array.append(value)
    params: dict[str, Any] = dict(zip(CHECK_COLUMNS, columns, strict=True))
    for child, arrays in zip(_CHILDREN, children, strict=True):
        params.update(zip((f"{child.tag}_ord", *_params(child)), arrays, strict=True))
    params.update(n=len(items), host_id=host_id)
    return params


def _execute(driver: Any, host_id: int, ids_of: IdsOf, items: Sequence[Check]) -> list[int]:
    """The batch's one statement on a psycopg connection; the new ids in order."""
    params: list[Any] | dict[str, Any]
    if len(items) == 1:
        (check,) = items
        rows = _child_rows(check, ids_of)
        sql = _one_insert(tuple(len(r) for r in rows))
        values: list[Any] = [host_id, *codec.check_values(check)]
        for child_rows in rows:
            for row in child_rows:
                values.extend(row)
        params = values
    else:
        sql, params = _BATCH_INSERT, _batch_params(host_id, ids_of, items)
    with driver.cursor() as cursor:
        # prepare=True: parsed and planned once per connection, then only Bind/Execute.
        cursor.execute(sql, params, prepare=True)
        return [int(row[0]) for row in cursor.fetchall()]


class PostgresqlFold:
    """The fold's statements through SQLAlchemy Core."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.taken: list[int] = []  # when the checks of this fold were taken

    def host_id(self, host: str) -> int | None:
        """The host's id, or None."""
        found = self.conn.execute(select(hosts.c.id).where(hosts.c.name == host)).scalar()
        return None if found is None else int(found)

    def watermark(self, host_id: int) -> int:
        """The newest folded check id; FOR UPDATE, so two folders of one host take turns."""
        value = self.conn.execute(
            select(rollup_progress.c.last_check_id)
            .where(rollup_progress.c.host_id == host_id)
            .with_for_update()
        ).scalar()
        return int(value or 0)

    def taken_at(self, check_id: int) -> int | None:
        """When `check_id` was taken."""
        found = self.conn.execute(select(checks.c.taken_at).where(checks.c.id == check_id)).scalar()
        return None if found is None else int(found)

    def new_checks(self, host_id: int, start: int, since: int, batch: int) -> Sequence[Row]:
        """The next checks to fold, in the host index's order."""
        rows = self.conn.execute(
            select(checks.c.id, checks.c.taken_at, *(checks.c[c] for c in FOLDED_CHECK_COLUMNS))
            .where(checks.c.host_id == host_id, checks.c.taken_at >= since, checks.c.id > start)
            .order_by(checks.c.taken_at, checks.c.id)
            .limit(batch)
        ).all()
        self.taken = [int(r[1]) for r in rows]
        return rows

    def children(
        self, table: Table, columns: Sequence[str], host_id: int, start: int, span: tuple[int, int]
    ) -> Sequence[Row]:
        """Rows of a per-check child table of the checks being folded."""
        return self.conn.execute(
            select(table.c.check_id, *(table.c[c] for c in columns))
            .join(checks, checks.c.id == table.c.check_id)
            .where(checks.c.host_id == host_id, checks.c.taken_at.between(*span), checks.c.id > start)
        ).all()

    def names(self, table: Table, ids: set[int]) -> Sequence[Row]:
        """(id, name) of dimension rows."""
        col = table.c.path if table is models.disk_paths else table.c.name
        return self.conn.execute(select(table.c.id, col).where(table.c.id.in_(ids))).all()

    def write(self, host_id: int, buckets: Buckets, last: int, folded: int) -> None:
        """Upsert the buckets, move the watermark and the host's count."""
        rows = [
            {"tier": t, "host_id": host_id, "metric_id": m, "bucket": b}
            | {"min": v[0], "max": v[1], "total": v[2], "count": int(v[3])}
            for (t, m, b), v in buckets.items()
        ]
        if rows:
            stmt = postgresql.insert(rollups)
            stmt = stmt.on_conflict_do_update(
                index_elements=["tier", "host_id", "metric_id", "bucket"],
                set_={
                    "min": func.least(rollups.c.min, stmt.excluded.min),
                    "max": func.greatest(rollups.c.max, stmt.excluded.max),
                    "total": rollups.c.total + stmt.excluded.total,
                    "count": rollups.c.count + stmt.excluded.count,
                },
            )
            self.conn.execute(stmt, rows)
        moved = self.conn.execute(
            update(rollup_progress).where(rollup_progress.c.host_id == host_id).values(last_check_id=last)
        )
        if moved.rowcount == 0:
            self.conn.execute(sa_insert(rollup_progress).values(host_id=host_id, last_check_id=last))
        self.conn.execute(
            update(hosts).where(hosts.c.id == host_id).values(checks_count=hosts.c.checks_count + folded)
        )
        pg_partitions.count_folded(self.conn, host_id, self.taken)

    def close(self) -> None:
        """Nothing to release."""


class PostgresqlBackend:
    """PostgreSQL: one statement per batch on the psycopg connection; the fold through Core."""

    bulk_pauses = False  # row locks: the sampler's insert never waits for a bulk writer
    shared = True

    def try_claim(self, conn: Connection, key: int) -> bool:
        """A session-level advisory lock on (HOST_CLAIMS, key): freed when the session ends."""
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:space, :key)"), {"space": HOST_CLAIMS, "key": key}
        )
        return bool(got.scalar_one())

    def release_claim(self, conn: Connection, key: int) -> None:
        """pg_advisory_unlock of (HOST_CLAIMS, key)."""
        conn.execute(text("SELECT pg_advisory_unlock(:space, :key)"), {"space": HOST_CLAIMS, "key": key})

    def wake_agents(self, conn: Connection, host: str) -> None:
        """NOTIFY the agents' channel with the host's name (store/backends/pg_notify.py)."""
        notify_agents(conn, host)

    def listen_for_agents(
        self, engine: Engine, woken: Callable[[str | None], None], fault: Callable[[str], None]
    ) -> AgentsListener:
        """One session LISTENing in its own thread (store/backends/pg_notify.py)."""
        listener = AgentsListener(engine, woken, fault)
        listener.start()
        return listener

    def begin_bulk(self, conn: Connection) -> None:
        """Nothing: the transaction begins with its first statement."""

    def is_lock_wait(self, exc: BaseException) -> bool:
        """SQLSTATE 55P03, lock_not_available."""
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        return getattr(orig, "sqlstate", None) == "55P03"

    def insert_missing(self, table: Table, values: dict[str, Any]) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING."""
        return postgresql.insert(table).values(values).on_conflict_do_nothing()

    def write_checks(
        self, conn: Connection, host_id: int, ids_of: IdsOf, items: Sequence[Check]
    ) -> list[int]:
        """The batch's statement inside the caller's transaction."""
        return _execute(conn.connection.driver_connection, host_id, ids_of, items)

    def hold(self, engine: Engine) -> Connection:
        """An autocommit connection: the one statement is the transaction."""
        return engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def unhold(self, held: Connection) -> None:
        """Nothing: the pool resets the isolation level itself."""

    def write_batch(self, held: Connection, host_id: int, ids_of: IdsOf, items: Sequence[Check]) -> list[int]:
        """The batch's statement in autocommit (atomic by itself)."""
        return _execute(held.connection.driver_connection, host_id, ids_of, items)

    def fold_statements(self, conn: Connection) -> FoldStatements:
        """Core statements on `conn`."""
        return PostgresqlFold(conn)

    def make_partitions(self, conn: Connection, now: int) -> int:
        """Today's and the next days' partitions of checks and children (pg_partitions)."""
        return pg_partitions.make_ahead(conn, now)

    def drop_partition(self, conn: Connection, cutoff: int) -> int | None:
        """The oldest day of checks past `cutoff`, when folded, and the child ranges it freed, or
        a table detached before (pg_partitions.drop_oldest), in a savepoint: when a lock is not
        granted in time, the step is rolled back so the writers queued behind it pass, and tried
        again; None (nothing done this round) when it never was."""
        for attempt in range(pg_partitions.STEP_TRIES):
            try:
                with conn.begin_nested():
                    return pg_partitions.drop_oldest(conn, cutoff)
            except DBAPIError as exc:
                if not self.is_lock_wait(exc):
                    raise
            time.sleep(STEP_PAUSE_S * (attempt + 1))
        log.warning("partitions: a table stayed locked by others; retention by partition waits a round")
        return None

    def row_cutoff(self, conn: Connection, cutoff: int) -> int:
        """Rows older than every day partition (in the default partition)."""
        return pg_partitions.row_cutoff(conn, cutoff)


BACKEND = PostgresqlBackend()
