"""Incremental rollups: fold new raw checks into 1-minute and 1-hour min/avg/max buckets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update
from sqlalchemy import insert as sa_insert

from checkd.models import (
    LOAD_SCALE,
    PCT_SCALE,
    check_disks,
    check_services,
    checks,
    disk_paths,
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
    rows = [
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


def _names(conn: Connection, table: Any, ids: Iterable[int], prefix: str) -> dict[int, int]:
    """Map dimension ids (disk path / service) to rollup metric ids named prefix:name."""
    out: dict[int, int] = {}
    wanted = set(ids)
    if not wanted:
        return out
    col = table.c.path if table is disk_paths else table.c.name
    for dim_id, name in conn.execute(select(table.c.id, col).where(table.c.id.in_(wanted))):
        mid = dims.metric_id(conn=conn, name=f"{prefix}:{name}")
        assert mid is not None
        out[int(dim_id)] = mid
    return out


def fold_new_checks(*, conn: Connection, host: str, batch: int = 20000) -> int:
    """Fold up to `batch` checks of `host` newer than the watermark into rollups; return how many.

    The watermark moves in the same transaction as the upserts, so every check is counted once."""
    hid = dims.host_id(conn=conn, name=host, create=False)
    if hid is None:
        return 0
    start = watermark(conn=conn, host_id=hid)
    # Read this host's own index (ix_checks_host_taken) in its order, from an hour before the
    # newest folded check: the scan stops after `batch` rows, so a fold costs the same whatever the
    # table holds (a fleet's other hosts, years of history, a backlog). Not the primary key's range
    # id > start: in a fleet that range holds every host's checks. A check stamped more than an
    # hour before the newest folded one (the clock stepped back that far) is not folded.
    new = and_(checks.c.host_id == hid, checks.c.id > start)
    newest_folded = conn.execute(select(checks.c.taken_at).where(checks.c.id == start)).scalar()
    if newest_folded is not None:
        new = and_(new, checks.c.taken_at >= int(newest_folded) - _CLOCK_SLACK_S)
    rows = conn.execute(
        select(checks.c.id, checks.c.taken_at, checks.c.cpu_pct, checks.c.mem_pct, checks.c.load1)
        .where(new)
        .order_by(checks.c.taken_at, checks.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return 0
    last = max(int(r[0]) for r in rows)
    # Children of these checks: the same index range again (then key seeks); extras are skipped below.
    in_batch = and_(new, checks.c.taken_at <= int(rows[-1][1]))
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
    disk_rows = conn.execute(
        select(check_disks.c.check_id, check_disks.c.path_id, check_disks.c.pct)
        .join(checks, checks.c.id == check_disks.c.check_id)
        .where(in_batch)
    ).all()
    disk_metric = _names(conn, disk_paths, (r[1] for r in disk_rows), "disk_percent")
    for cid, pid, pct in disk_rows:
        if cid in taken and pct is not None:
            _add(acc, disk_metric[pid], taken[cid], pct / PCT_SCALE)
    svc_rows = conn.execute(
        select(check_services.c.check_id, check_services.c.service_id, check_services.c.state)
        .join(checks, checks.c.id == check_services.c.check_id)
        .where(in_batch)
    ).all()
    svc_metric = _names(conn, service_names, (r[1] for r in svc_rows), "availability")
    for cid, sid, state in svc_rows:
        if cid in taken:
            _add(acc, svc_metric[sid], taken[cid], 100.0 if state == _ACTIVE else 0.0)
    _upsert(conn, hid, acc)
    _set_watermark(conn, hid, last)
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
