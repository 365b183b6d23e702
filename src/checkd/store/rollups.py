"""Incremental rollups: fold new raw checks into 1-minute and 1-hour min/avg/max buckets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Table, delete, select

from checkd import models
from checkd.models import LOAD_SCALE, checks, rollup_progress, rollups
from checkd.store import dims
from checkd.store.backends import FOLDED_CHECK_COLUMNS, Buckets, FoldStatements, Row, backend_for
from checkd.store.metric_sources import PER_CORE, SOURCES, child_metrics

MINUTE, HOUR = 1, 2
TIER_SECONDS = {MINUTE: 60, HOUR: 3600}
_CHILD_TABLES = (
    models.check_disks,
    models.check_services,
    models.check_net,
    models.check_disk_io,
    models.check_probes,
)
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


def _metric_ids(
    conn: Connection, reads: FoldStatements, dim: Table, ids: Iterable[int], metrics: Iterable[str]
) -> dict[int, list[int]]:
    """Map dimension ids (disk path, service, device, endpoint check) to the rollup metric ids of
    each of `metrics` for it, named metric:name, in the order of `metrics`."""
    out: dict[int, list[int]] = {}
    wanted = set(ids)
    if not wanted:
        return out
    names = list(metrics)
    for dim_id, name in reads.names(dim, wanted):
        mids = [dims.metric_id(conn=conn, name=f"{metric}:{name}") for metric in names]
        out[int(dim_id)] = [m for m in mids if m is not None]
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
    acc: Buckets = {}
    _fold_checks(conn, acc, rows)
    for table in _CHILD_TABLES:
        _fold_children(conn, reads, acc, table, taken, (hid, start, span))
    reads.write(hid, acc, last, len(rows))
    return len(rows)


def _fold_checks(conn: Connection, acc: Buckets, rows: Sequence[Row]) -> None:
    """The metrics of the `checks` rows themselves (id, taken_at, *FOLDED_CHECK_COLUMNS)."""
    position = {c: i + 2 for i, c in enumerate(FOLDED_CHECK_COLUMNS)}
    plain = [(n, s, position[s.column]) for n, s in SOURCES.items() if s.table is checks]
    mids = [dims.metric_id(conn=conn, name=n) for n, _, _ in plain]
    per_core = dims.metric_id(conn=conn, name=PER_CORE)
    load_at, cpus_at = position["load1"], position["cpu_count"]
    assert per_core is not None
    for row in rows:
        t = int(row[1])
        for mid, (_, source, at) in zip(mids, plain, strict=True):
            value = source.value(row[at])
            if value is not None and mid is not None:
                _add(acc, mid, t, value)
        load, cpus = row[load_at], row[cpus_at]
        if load is not None and cpus:
            _add(acc, per_core, t, load / LOAD_SCALE / cpus)


def _fold_children(
    conn: Connection,
    reads: FoldStatements,
    acc: Buckets,
    table: Table,
    taken: dict[int, int],
    where: tuple[int, int, tuple[int, int]],
) -> None:
    """The metrics of one per-check table's rows (a disk path's, a service's, a device's ...)."""
    metrics = child_metrics(table)
    first = next(iter(metrics.values()))
    assert first.dim is not None and first.dim_key is not None
    columns = list(dict.fromkeys(s.column for s in metrics.values()))
    rows = reads.children(table, [first.dim_key, *columns], *where)
    metric_ids = _metric_ids(conn, reads, first.dim, (r[1] for r in rows), metrics)
    at = [columns.index(s.column) + 2 for s in metrics.values()]
    sources = list(metrics.values())
    for row in rows:
        t = taken.get(row[0])
        if t is None:
            continue
        for mid, source, i in zip(metric_ids[row[1]], sources, at, strict=True):
            value = source.value(row[i])
            if value is not None:
                _add(acc, mid, t, value)


def delete_rollups_before(*, conn: Connection, host: str, tier: int, cutoff: int) -> int:
    """Delete `host`'s rollups of `tier` whose bucket starts before `cutoff`; return how many."""
    hid = dims.host_id(conn=conn, name=host, create=False)
    if hid is None:
        return 0
    res = conn.execute(
        delete(rollups).where(rollups.c.tier == tier, rollups.c.host_id == hid, rollups.c.bucket < cutoff)
    )
    return int(res.rowcount or 0)
