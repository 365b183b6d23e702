"""PostgreSQL's write of one host's pushed batch as ONE statement: token, sequence and checks together.

The statement locks the host's `ingest_progress` row, keeps the checks above its sequence
number, inserts them with their children, moves the number, and confirms that the pushing
token still exists (FOR KEY SHARE, so a revocation waits for it or it sees the revocation), all
in one round trip, atomic in autocommit. Arrays travel as text literals: psycopg's list dumper
walks every element in Python, a join of ints does not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql

from checkd.models import ingest_progress
from checkd.probes import Check
from checkd.store import codec
from checkd.store.backends import CHECK_COLUMNS, IdsOf
from checkd.store.backends.postgresql import (
    _CHECK_TYPES,
    _CHILDREN,
    _HOST_TYPE,
    _batch_cte,
    _child_rows,
    _params,
    _unnest,
)

_COLUMNS = ", ".join(CHECK_COLUMNS)

# v: the pushed checks above the host's stored sequence number (none if the token is gone);
# ids: their new ids in push order, which the children join by position (`ord`).
PUSHED_INSERT = f"""
WITH tok AS MATERIALIZED (
  SELECT 1 FROM api_tokens WHERE token_hash = %(token)s::text FOR KEY SHARE
), prog AS MATERIALIZED (
  SELECT last_seq FROM ingest_progress WHERE host_id = %(host_id)s::{_HOST_TYPE} FOR UPDATE
), v AS MATERIALIZED (
  SELECT x.* FROM unnest(%(seq)s::bigint[], {_unnest(CHECK_COLUMNS, _CHECK_TYPES)})
       WITH ORDINALITY AS x(seq, {_COLUMNS}, ord)
  WHERE x.seq > (SELECT last_seq FROM prog) AND (%(token)s::text IS NULL OR EXISTS (SELECT FROM tok))
), ids AS MATERIALIZED (
  SELECT nextval('checks_id_seq') AS id, ord FROM (SELECT ord FROM v ORDER BY ord) AS o
), c AS (
  INSERT INTO checks (id, host_id, {_COLUMNS})
  SELECT ids.id, %(host_id)s::{_HOST_TYPE}, {", ".join("v." + c for c in CHECK_COLUMNS)}
  FROM v JOIN ids USING (ord)
){"".join(_batch_cte(child) for child in _CHILDREN)}
, up AS (
  UPDATE ingest_progress SET last_seq = top.seq FROM (SELECT max(seq) AS seq FROM v) AS top
  WHERE ingest_progress.host_id = %(host_id)s::{_HOST_TYPE} AND top.seq IS NOT NULL
)
SELECT EXISTS (SELECT FROM prog), %(token)s::text IS NULL OR EXISTS (SELECT FROM tok),
       array_agg(ids.ord ORDER BY ids.ord), array_agg(ids.id ORDER BY ids.ord)
FROM ids
"""  # noqa: S608  (names and types are the models' own; every value is a bound parameter)


class Written(NamedTuple):
    """What one write found: whether the progress row and token exist, and the stored (ord, id)s."""

    has_progress: bool
    token_ok: bool
    ords: list[int]
    ids: list[int]


def int_array(values: Sequence[int | None]) -> str:
    """A PostgreSQL array literal of integers and NULLs (`{1,NULL,3}`)."""
    if None in values:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[str]:
    """`rows` transposed into `width` array literals (empty arrays when there are no rows)."""
    if not rows:
        return ["{}"] * width
    return [int_array(column) for column in zip(*rows, strict=True)]


def pushed_params(
    host_id: int, ids_of: IdsOf, seqs: Sequence[int], items: Sequence[Check], token_hash: str | None
) -> dict[str, Any]:
    """PUSHED_INSERT's parameters for `items` (sorted by their `seqs`, no seq twice)."""
    params: dict[str, Any] = {"host_id": host_id, "token": token_hash, "seq": int_array(seqs)}
    params.update(
        zip(CHECK_COLUMNS, _columns([codec.check_values(c) for c in items], len(CHECK_COLUMNS)), strict=True)
    )
    children: list[list[tuple[Any, ...]]] = [[] for _ in _CHILDREN]
    for ord_, check in enumerate(items, start=1):
        for rows, found in zip(children, _child_rows(check, ids_of), strict=True):
            for row in found:  # most child tables have no row for most checks
                rows.append((ord_, *row))
    for child, rows in zip(_CHILDREN, children, strict=True):
        names = (f"{child.tag}_ord", *_params(child))
        params.update(zip(names, _columns(rows, len(names)), strict=True))
    return params


def write_pushed(conn: Connection, params: dict[str, Any]) -> Written:
    """Run PUSHED_INSERT on `conn` (autocommit: it is its own transaction)."""
    has_progress, token_ok, ords, ids = conn.exec_driver_sql(PUSHED_INSERT, params).one()
    return Written(bool(has_progress), bool(token_ok), list(ords or ()), list(ids or ()))


def add_progress(conn: Connection, host_id: int) -> None:
    """The host's progress row at 0, unless another collector made it first."""
    conn.execute(
        postgresql.insert(ingest_progress).values(host_id=host_id, last_seq=0).on_conflict_do_nothing()
    )
