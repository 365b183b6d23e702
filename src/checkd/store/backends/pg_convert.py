"""Converting PostgreSQL's plain `checks` and child tables into partitioned ones and back (migration 0009).

Each table is re-created with the same columns, defaults, indexes, foreign keys and owned
sequences, every row copied, inside the migration's transaction. Names come from the catalog
and pg_partitions; no value is interpolated."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from checkd.store.backends.pg_partitions import (
    CHILD_KEY,
    CHILDREN,
    DAY,
    DAY_COUNTS,
    DAY_COUNTS_DDL,
    PARENT,
    PARENT_KEY,
    id_base,
    make_ahead,
    stamp,
)


def primary_key(conn: Connection, table: str) -> list[str]:
    """The columns of `table`'s primary key, in order."""
    return list(
        conn.exec_driver_sql(
            "SELECT a.attname FROM pg_constraint k"
            " JOIN unnest(k.conkey) WITH ORDINALITY AS u(attnum, n) ON true"
            " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum"
            " WHERE k.conrelid = to_regclass(%s) AND k.contype = 'p' ORDER BY u.n",
            (table,),
        ).scalars()
    )


def _definitions(conn: Connection, table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The CREATE INDEX statements of `table`'s plain indexes, and (name, definition) of its foreign
    keys and unique constraints (on a partitioned table a unique one must hold the partition key:
    PostgreSQL refuses it otherwise, and the migration stops, nothing lost)."""
    indexes = conn.exec_driver_sql(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        (table,),
    ).scalars()
    constraints = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = to_regclass(%s) AND contype IN ('f', 'u')",
        (table,),
    ).all()
    # A partitioned table's indexes read "ON ONLY t": re-created on the new table, they cascade.
    return [i.replace(" ON ONLY ", " ON ", 1) for i in indexes], [(str(n), str(d)) for n, d in constraints]


def rebuild(conn: Connection, table: str, primary_key: Sequence[str], partition_by: str | None) -> None:
    """Re-create `table` with the same columns, defaults, indexes, constraints and owned sequences,
    partitioned by range of `partition_by` (with a DEFAULT partition) or plain when None, keeping
    every row.
    Range partitions to route the rows into are created by the caller between `rebuild_begin`
    and `rebuild_finish`; this runs both back to back."""
    rebuild_begin(conn, table, primary_key, partition_by)
    rebuild_finish(conn, table)


def rebuild_begin(conn: Connection, table: str, primary_key: Sequence[str], partition_by: str | None) -> None:
    """Rename `table` to `<table>_old` (and its indexes) and create the new, empty `table`."""
    indexes, constraints = _definitions(conn, table)
    old = f"{table}_old"
    conn.exec_driver_sql(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    for index in conn.exec_driver_sql(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = to_regclass(%s)", (old,)
    ).scalars():
        conn.exec_driver_sql(f'ALTER INDEX {index} RENAME TO "{index.strip(chr(34))}_old"')
    by = f" PARTITION BY RANGE ({partition_by})" if partition_by else ""
    conn.exec_driver_sql(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}'
    )
    conn.exec_driver_sql(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" PRIMARY KEY ({", ".join(primary_key)})'
    )
    for statement in indexes:
        conn.exec_driver_sql(statement)
    for name, definition in constraints:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    if partition_by:
        conn.exec_driver_sql(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')


def rebuild_finish(conn: Connection, table: str) -> None:
    """Copy `<table>_old`'s rows into `table`, hand its sequences over, and drop it."""
    old = f"{table}_old"
    conn.exec_driver_sql(f'INSERT INTO "{table}" SELECT * FROM "{old}"')  # noqa: S608
    owned = conn.exec_driver_sql(
        "SELECT s.oid::regclass::text, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid"
        " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
        " WHERE s.relkind = 'S' AND d.refobjid = to_regclass(%s) AND d.deptype = 'a'",
        (old,),
    ).all()
    for sequence, column in owned:
        conn.exec_driver_sql(f'ALTER SEQUENCE {sequence} OWNED BY "{table}"."{column}"')
    conn.exec_driver_sql(f'DROP TABLE "{old}"')


def partition_checks(conn: Connection, now: int) -> None:
    """Convert plain `checks` and its children (migration 0009): a partition per day that holds
    checks, one child range below today's base for every existing row, then today and ahead."""
    rebuild_begin(conn, PARENT, ["id", PARENT_KEY], PARENT_KEY)
    days = conn.exec_driver_sql(
        f"SELECT DISTINCT {PARENT_KEY} / {DAY} FROM {PARENT}_old WHERE {PARENT_KEY} >= 0"  # noqa: S608
    ).scalars()
    for day in sorted(int(d) for d in days):
        conn.exec_driver_sql(
            f'CREATE TABLE "{PARENT}_{stamp(day)}" PARTITION OF "{PARENT}"'
            f" FOR VALUES FROM ({day * DAY}) TO ({(day + 1) * DAY})"
        )
    rebuild_finish(conn, PARENT)
    conn.exec_driver_sql(DAY_COUNTS_DDL)
    conn.exec_driver_sql(
        f"INSERT INTO {DAY_COUNTS} (host_id, day, count) SELECT c.host_id, c.{PARENT_KEY} / {DAY}, count(*)"  # noqa: S608
        f" FROM {PARENT} c JOIN rollup_progress r ON r.host_id = c.host_id AND c.id <= r.last_check_id"
        f" WHERE c.{PARENT_KEY} >= 0 GROUP BY 1, 2"
    )
    for child in CHILDREN:
        partition_child(conn, child, now)
    make_ahead(conn, now)


def partition_child(conn: Connection, table: str, now: int) -> None:
    """Convert plain child `table` (keyed by check_id, the first column of its primary key) into id
    ranges: one below today's base holding every existing row; make_ahead adds the days."""
    rebuild_begin(conn, table, primary_key(conn, table), CHILD_KEY)
    today = now // DAY
    conn.exec_driver_sql(
        f'CREATE TABLE "{table}_before_{stamp(today)}" PARTITION OF "{table}"'
        f" FOR VALUES FROM (MINVALUE) TO ({id_base(today)})"
    )
    rebuild_finish(conn, table)
