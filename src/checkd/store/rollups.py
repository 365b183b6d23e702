"""Incremental rollups: fold new raw checks into 1-minute and 1-hour min/avg/max buckets."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, delete, select

from checkd.models import LOAD_SCALE, PCT_SCALE, disk_paths, rollup_progress, rollups, service_names
from checkd.store import dims
from checkd.store.backends import Buckets, FoldStatements, backend_for
from checkd.store.codec import STATE_CODE

MINUTE, HOUR = 1, 2
TIER_SECONDS = {MINUTE: 60, HOUR: 3600}
_ACTIVE = STATE_CODE["active"]
_CLOCK_SLACK_S = 3600  # how far back before the newest folded check a fold still looks
_NO_TIME = -(2**62)  # "no lower bound" for taken_at


def _add(acc: Buckets, metric: int, taken_at: int, value: float) -> None:
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


def _names(
    conn: Connection, reads: FoldStatements, table: Table, ids: Iterable[int], prefix: str
) -> dict[int, int]:
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
    reads = backend_for(conn).fold_statements(conn)
    try:
        return _fold(conn, reads, host, batch)
    finally:
        reads.close()


def _fold(conn: Connection, reads: FoldStatements, host: str, batch: int) -> int:
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
    acc: Buckets = {}
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
