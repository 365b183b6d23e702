"""Incremental rollups: fold new raw checks into 1-minute and 1-hour min/avg/max buckets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy import insert as sa_insert

from checkd.models import (
    LOAD_SCALE,
    PCT_SCALE,
    check_disks,
    check_services,
    checks,
    disk_paths,
    hosts,
    rollup_progress,
    rollups,
    service_names,
)
from checkd.store import dims
from checkd.store.codec import STATE_CODE

MINUTE, HOUR = 1, 2
TIER_SECONDS = {MINUTE: 60, HOUR: 3600}
_ACTIVE = STATE_CODE["active"]
_CLOCK_SLACK_S = 3600  # how far back before the newest folded check a fold still looks
_NO_TIME = -(2**62)  # "no lower bound" for taken_at

Acc = dict[tuple[int, int, int], list[float]]  # (tier, metric_id, bucket) -> [min, max, total, count]


def _add(acc: Acc, metric: int, taken_at: int, value: float) -> None:
    for tier, width in TIER_SECONDS.items():
        key = (tier, metric, taken_at - taken_at % width)
        cur = acc.get(key)
        if cur is None:
            acc[key] = [value, value, value, 1.0]
        else:
            cur[0] = min(cur[0], value)
            cur[1] = max(cur[1], value)
            cur[2] += value
            cur[3] += 1


def watermark(*, conn: Connection, host_id: int) -> int:
    """The id of the newest check of `host_id` already folded into rollups (0 if none)."""
    value = conn.execute(
        select(rollup_progress.c.last_check_id).where(rollup_progress.c.host_id == host_id)
    ).scalar()
    return int(value or 0)


def _set_watermark(conn: Connection, host_id: int, last_id: int) -> None:
    done = conn.execute(
        update(rollup_progress).where(rollup_progress.c.host_id == host_id).values(last_check_id=last_id)
    )
    if done.rowcount == 0:
        conn.execute(sa_insert(rollup_progress).values(host_id=host_id, last_check_id=last_id))


def _upsert(conn: Connection, host_id: int, acc: Acc) -> None:
    rows = _bucket_rows(host_id, acc)
    if not rows:
        return
    pg = conn.dialect.name == "postgresql"
    stmt = dims.upsert_dialect(conn).insert(rollups)
    lo, hi = (func.least, func.greatest) if pg else (func.min, func.max)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tier", "host_id", "metric_id", "bucket"],
        set_={
            "min": lo(rollups.c.min, stmt.excluded.min),
            "max": hi(rollups.c.max, stmt.excluded.max),
            "total": rollups.c.total + stmt.excluded.total,
            "count": rollups.c.count + stmt.excluded.count,
        },
    )
    conn.execute(stmt, rows)


def _bucket_rows(host_id: int, acc: Acc) -> list[dict[str, Any]]:
    return [
        {
            "tier": t,
            "host_id": host_id,
            "metric_id": m,
            "bucket": b,
            "min": v[0],
            "max": v[1],
            "total": v[2],
            "count": int(v[3]),
        }
        for (t, m, b), v in acc.items()
    ]


Row = Sequence[Any]


class _CoreReads:
    """The fold's statements through SQLAlchemy Core (PostgreSQL, and any other dialect)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def host_id(self, host: str) -> int | None:
        return dims.host_id(conn=self.conn, name=host, create=False)

    def watermark(self, host_id: int) -> int:
        # FOR UPDATE: two folders of one host (two checkd with one host name, or an import beside
        # the live checkd) take turns instead of folding the same checks twice (SQLite: see
        # _SQLITE_LOCK).
        value = self.conn.execute(
            select(rollup_progress.c.last_check_id)
            .where(rollup_progress.c.host_id == host_id)
            .with_for_update()
        ).scalar()
        return int(value or 0)

    def taken_at(self, check_id: int) -> int | None:
        found = self.conn.execute(select(checks.c.taken_at).where(checks.c.id == check_id)).scalar()
        return None if found is None else int(found)

    def new_checks(self, host_id: int, start: int, since: int, batch: int) -> Sequence[Row]:
        return self.conn.execute(
            select(checks.c.id, checks.c.taken_at, checks.c.cpu_pct, checks.c.mem_pct, checks.c.load1)
            .where(checks.c.host_id == host_id, checks.c.taken_at >= since, checks.c.id > start)
            .order_by(checks.c.taken_at, checks.c.id)
            .limit(batch)
        ).all()

    def disks(self, host_id: int, start: int, span: tuple[int, int]) -> Sequence[Row]:
        return self.conn.execute(
            select(check_disks.c.check_id, check_disks.c.path_id, check_disks.c.pct)
            .join(checks, checks.c.id == check_disks.c.check_id)
            .where(checks.c.host_id == host_id, checks.c.taken_at.between(*span), checks.c.id > start)
        ).all()

    def services(self, host_id: int, start: int, span: tuple[int, int]) -> Sequence[Row]:
        return self.conn.execute(
            select(check_services.c.check_id, check_services.c.service_id, check_services.c.state)
            .join(checks, checks.c.id == check_services.c.check_id)
            .where(checks.c.host_id == host_id, checks.c.taken_at.between(*span), checks.c.id > start)
        ).all()

    def names(self, table: Any, ids: set[int]) -> Sequence[Row]:
        col = table.c.path if table is disk_paths else table.c.name
        return self.conn.execute(select(table.c.id, col).where(table.c.id.in_(ids))).all()

    def write(self, host_id: int, acc: Acc, last: int, folded: int) -> None:
        _upsert(self.conn, host_id, acc)
        _set_watermark(self.conn, host_id, last)
        self.conn.execute(
            update(hosts).where(hosts.c.id == host_id).values(checks_count=hosts.c.checks_count + folded)
        )

    def close(self) -> None:
        pass


# The same statements as plain SQL for SQLite's DB-API cursor. The fold runs once a minute in the
# server; through Core it cost 6-12 ms of CPU per minute in steady state and ~20 ms more for the
# first fold of a process (compiling nine statements), against ~1-2 ms here. Table and column
# names are this module's constants, never input; values go through ? parameters.
_SQLITE_HOST = "SELECT id FROM hosts WHERE name = ?"
_SQLITE_WATERMARK = "SELECT last_check_id FROM rollup_progress WHERE host_id = ?"
# A write that changes nothing, so the transaction takes SQLite's write lock before it reads the
# watermark (pysqlite begins a transaction only at the first write: a fold that read first could
# fold on a stale watermark after waiting for another fold of the same host).
_SQLITE_LOCK = "UPDATE rollup_progress SET last_check_id = last_check_id WHERE host_id = ?"
_SQLITE_TAKEN_AT = "SELECT taken_at FROM checks WHERE id = ?"
_SQLITE_NEW_CHECKS = (
    "SELECT id, taken_at, cpu_pct, mem_pct, load1 FROM checks"
    " WHERE host_id = ? AND taken_at >= ? AND id > ? ORDER BY taken_at, id LIMIT ?"
)
_SQLITE_DISKS = (
    "SELECT d.check_id, d.path_id, d.pct FROM check_disks d JOIN checks c ON c.id = d.check_id"
    " WHERE c.host_id = ? AND c.taken_at BETWEEN ? AND ? AND c.id > ?"
)
_SQLITE_SERVICES = (
    "SELECT s.check_id, s.service_id, s.state FROM check_services s JOIN checks c ON c.id = s.check_id"
    " WHERE c.host_id = ? AND c.taken_at BETWEEN ? AND ? AND c.id > ?"
)
_SQLITE_UPSERT = (
    "INSERT INTO rollups (tier, host_id, metric_id, bucket, min, max, total, count)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tier, host_id, metric_id, bucket) DO UPDATE SET"
    " min = min(rollups.min, excluded.min), max = max(rollups.max, excluded.max),"
    " total = rollups.total + excluded.total, count = rollups.count + excluded.count"
)
_SQLITE_COUNT = "UPDATE hosts SET checks_count = checks_count + ? WHERE id = ?"
_SQLITE_SET_WATERMARK = (
    "INSERT INTO rollup_progress (host_id, last_check_id) VALUES (?, ?)"
    " ON CONFLICT (host_id) DO UPDATE SET last_check_id = excluded.last_check_id"
)


class _SqliteReads:
    """The fold's statements through the DB-API cursor of this transaction's SQLite connection."""

    def __init__(self, conn: Connection) -> None:
        self.cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        row = self.cursor.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def host_id(self, host: str) -> int | None:
        found = self._one(_SQLITE_HOST, (host,))
        return None if found is None else int(found)

    def watermark(self, host_id: int) -> int:
        self.cursor.execute(_SQLITE_LOCK, (host_id,))
        return int(self._one(_SQLITE_WATERMARK, (host_id,)) or 0)

    def taken_at(self, check_id: int) -> int | None:
        found = self._one(_SQLITE_TAKEN_AT, (check_id,))
        return None if found is None else int(found)

    def new_checks(self, host_id: int, start: int, since: int, batch: int) -> Sequence[Row]:
        return self._all(_SQLITE_NEW_CHECKS, (host_id, since, start, batch))

    def disks(self, host_id: int, start: int, span: tuple[int, int]) -> Sequence[Row]:
        return self._all(_SQLITE_DISKS, (host_id, *span, start))

    def services(self, host_id: int, start: int, span: tuple[int, int]) -> Sequence[Row]:
        return self._all(_SQLITE_SERVICES, (host_id, *span, start))

    def _all(self, sql: str, params: tuple[Any, ...]) -> Sequence[Row]:
        return self.cursor.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    def names(self, table: Any, ids: set[int]) -> Sequence[Row]:
        col = "path" if table is disk_paths else "name"
        marks = ", ".join("?" for _ in ids)
        sql = f"SELECT id, {col} FROM {table.name} WHERE id IN ({marks})"  # noqa: S608
        return self.cursor.execute(sql, tuple(ids)).fetchall()  # type: ignore[no-any-return]

    def write(self, host_id: int, acc: Acc, last: int, folded: int) -> None:
        rows = [(t, host_id, m, b, v[0], v[1], v[2], int(v[3])) for (t, m, b), v in acc.items()]
        if rows:
            self.cursor.executemany(_SQLITE_UPSERT, rows)
        self.cursor.execute(_SQLITE_SET_WATERMARK, (host_id, last))
        self.cursor.execute(_SQLITE_COUNT, (folded, host_id))

    def close(self) -> None:
        self.cursor.close()


_Reads = _CoreReads | _SqliteReads


def _names(conn: Connection, reads: _Reads, table: Any, ids: Iterable[int], prefix: str) -> dict[int, int]:
    """Map dimension ids (disk path / service) to rollup metric ids named prefix:name."""
    out: dict[int, int] = {}
    wanted = set(ids)
    if not wanted:
        return out
    for dim_id, name in reads.names(table, wanted):
        mid = dims.metric_id(conn=conn, name=f"{prefix}:{name}")
        assert mid is not None
        out[int(dim_id)] = mid
    return out


def fold_new_checks(*, conn: Connection, host: str, batch: int = 20000) -> int:
    """Fold up to `batch` checks of `host` newer than the watermark into rollups; return how many.

    The watermark and the host's check count (hosts.checks_count: the checks folded so far) move in
    the same transaction as the upserts, so every check is counted once."""
    reads: _Reads = _SqliteReads(conn) if conn.dialect.name == "sqlite" else _CoreReads(conn)
    try:
        return _fold(conn, reads, host, batch)
    finally:
        reads.close()


def _fold(conn: Connection, reads: _Reads, host: str, batch: int) -> int:
    hid = reads.host_id(host)
    if hid is None:
        return 0
    start = reads.watermark(hid)
    # Read this host's own index (ix_checks_host_taken) in its order, from an hour before the
    # newest folded check: the scan stops after `batch` rows, so a fold costs the same whatever the
    # table holds (a fleet's other hosts, years of history, a backlog). Not the primary key's range
    # id > start: in a fleet that range holds every host's checks. A check stamped more than an
    # hour before the newest folded one (the clock stepped back that far) is not folded.
    newest_folded = reads.taken_at(start) if start else None
    since = _NO_TIME if newest_folded is None else newest_folded - _CLOCK_SLACK_S
    rows = reads.new_checks(hid, start, since, batch)
    if not rows:
        return 0
    last = max(int(r[0]) for r in rows)
    # Children of these checks: the same index range again, then key seeks; extras skipped below.
    span = (since, int(rows[-1][1]))
    taken = {int(r[0]): int(r[1]) for r in rows}
    base = {n: dims.metric_id(conn=conn, name=n) for n in ("cpu_percent", "mem_percent", "load1")}
    acc: Acc = {}
    for _cid, t, cpu, mem, load1 in rows:
        if cpu is not None:
            _add(acc, base["cpu_percent"], t, cpu / PCT_SCALE)  # type: ignore[arg-type]
        if mem is not None:
            _add(acc, base["mem_percent"], t, mem / PCT_SCALE)  # type: ignore[arg-type]
        if load1 is not None:
            _add(acc, base["load1"], t, load1 / LOAD_SCALE)  # type: ignore[arg-type]
    disk_rows = reads.disks(hid, start, span)
    disk_metric = _names(conn, reads, disk_paths, (r[1] for r in disk_rows), "disk_percent")
    for cid, pid, pct in disk_rows:
        if cid in taken and pct is not None:
            _add(acc, disk_metric[pid], taken[cid], pct / PCT_SCALE)
    svc_rows = reads.services(hid, start, span)
    svc_metric = _names(conn, reads, service_names, (r[1] for r in svc_rows), "availability")
    for cid, sid, state in svc_rows:
        if cid in taken:
            _add(acc, svc_metric[sid], taken[cid], 100.0 if state == _ACTIVE else 0.0)
    reads.write(hid, acc, last, len(rows))
    return len(rows)


def delete_rollups_before(*, conn: Connection, host: str, tier: int, cutoff: int) -> int:
    """Delete `host`'s rollups of `tier` whose bucket starts before `cutoff`; return how many."""
    hid = dims.host_id(conn=conn, name=host, create=False)
    if hid is None:
        return 0
    res = conn.execute(
        delete(rollups).where(rollups.c.tier == tier, rollups.c.host_id == hid, rollups.c.bucket < cutoff)
    )
    return int(res.rowcount or 0)
