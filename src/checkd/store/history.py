"""History series: min/avg/max per bucket from raw checks or rollups, at most `points` buckets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Float, case, cast, func, select

from checkd.models import checks, rollup_progress, rollups
from checkd.store import dims
from checkd.store.metric_sources import LOAD_PER_CORE_SOURCE, PER_CORE, SOURCES
from checkd.store.rollups import HOUR, MINUTE, TIER_SECONDS
from checkd.vocabulary import METRIC_QUALIFIER, QUALIFIER_DEFAULT

_DIM_COLUMN = {"disk_paths": "path", "service_names": "name", "device_names": "name", "probe_names": "name"}


@dataclass(frozen=True)
class Series:
    """Buckets of `resolution_s` seconds: (bucket start, min, avg, max), oldest first."""

    resolution_s: int
    points: list[tuple[int, float, float, float]]


@dataclass(frozen=True)
class Retentions:
    """Seconds each tier is kept, which bounds the tiers a range can be answered from."""

    raw: int
    minute: int


@dataclass(frozen=True)
class Plan:
    """Where a series is read from and how it is bucketed: bucket k starts at origin + k * width."""

    tier: int | None  # None: raw checks
    width: int
    origin: int


def choose_tier(*, since: int, until: int, points: int, now: int, keep: Retentions) -> Plan:
    """The coarsest-enough source and a bucket width giving at most `points` buckets over the range."""
    wanted = max(1, math.ceil((until - since + 1) / points))
    # Raw checks up to 30 s buckets (an 8 h range at 500 points took 46 ms at 10 M rows; minute
    # rollups answer it in a few ms), then 1-minute rollups, then 1-hour ones.
    if wanted >= 3600 or since < now - keep.minute:
        tier: int | None = HOUR
    elif wanted >= 30 or since < now - keep.raw:
        tier = MINUTE
    else:
        tier = None
    step = 1 if tier is None else TIER_SECONDS[tier]
    # Buckets start at `since` (rounded down to the tier's step, so whole rollup buckets fall in one
    # series bucket); then ceil(span / width) <= points buckets cover the range.
    origin = since - since % step
    width = math.ceil((until - origin + 1) / points / step) * step
    return Plan(tier, width, origin)


Agg = tuple[int, float, float, float, float]  # bucket start, min, total, count, max


def _raw_buckets(
    conn: Connection,
    hid: int,
    metric: str,
    qualifier: str | None,
    span: tuple[int, int],
    plan: Plan,
    after_id: int = 0,
) -> list[Agg]:
    """Raw checks of `hid` in `span` (and with id > `after_id`) aggregated into the plan's buckets."""
    bucket = plan.origin + ((checks.c.taken_at - plan.origin) // plan.width) * plan.width
    where: list[Any] = [checks.c.host_id == hid, checks.c.taken_at.between(*span)]
    if after_id:
        where.append(checks.c.id > after_id)
    q: Any = select(checks)
    col: Any
    if metric == PER_CORE:
        load, cpus = LOAD_PER_CORE_SOURCE
        col, scale = cast(load.col, Float) / cpus, load.scale
        where.append(cpus > 0)
    else:
        source = SOURCES[metric]
        col, scale = source.col, source.scale
        if source.equals is not None:
            col, scale = case((source.col == source.equals, 100.0), else_=0.0), 1.0
        if source.dim is not None:
            assert source.dim_key is not None
            q = q.join(source.table, source.table.c.check_id == checks.c.id)
            dim_id = dims.lookup_id(conn=conn, table=source.dim, column=_DIM_COLUMN[source.dim.name],
                                    value=qualifier_of(metric, qualifier))  # fmt: skip
            where.append(source.table.c[source.dim_key] == dim_id)
    where.append(col.is_not(None))
    q = q.with_only_columns(
        bucket.label("t"), func.min(col), func.sum(col), func.count(col), func.max(col)
    ).where(*where)
    rows = conn.execute(q.group_by(bucket).order_by(bucket)).all()
    # float(): PostgreSQL sums integers and numerics as numeric (a Decimal here).
    return [
        (int(t), float(lo) / scale, float(total) / scale, float(n), float(hi) / scale)
        for t, lo, total, n, hi in rows
    ]


def _rollup_buckets(conn: Connection, hid: int, mid: int, until: int, plan: Plan) -> list[Agg]:
    bucket = plan.origin + ((rollups.c.bucket - plan.origin) // plan.width) * plan.width
    q = (
        select(
            bucket.label("t"),
            func.min(rollups.c.min),
            func.sum(rollups.c.total),
            func.sum(rollups.c.count),
            func.max(rollups.c.max),
        )
        .where(
            rollups.c.tier == plan.tier,
            rollups.c.host_id == hid,
            rollups.c.metric_id == mid,
            rollups.c.bucket.between(plan.origin, until),
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    return [(int(t), float(lo), float(tot), float(n), float(hi)) for t, lo, tot, n, hi in conn.execute(q)]


def _unfolded_buckets(
    conn: Connection, hid: int, metric: str, qualifier: str | None, span: tuple[int, int], plan: Plan
) -> list[Agg]:
    """The checks the upkeep has not folded yet (after the host's watermark), in the plan's buckets.

    Read after the rollups: a fold committing in between then leaves its checks out of this one
    answer rather than counting them twice. The range starts at the newest folded check's time, so
    the scan of the host's (host_id, taken_at) index covers about one fold interval of checks."""
    folded = conn.execute(
        select(rollup_progress.c.last_check_id, checks.c.taken_at)
        .select_from(rollup_progress.outerjoin(checks, checks.c.id == rollup_progress.c.last_check_id))
        .where(rollup_progress.c.host_id == hid)
    ).first()
    last_id, start = (0, span[0]) if folded is None else (int(folded[0]), span[0])
    if folded is not None and folded[1] is not None:
        start = max(start, int(folded[1]))
    if start > span[1]:
        return []
    return _raw_buckets(conn, hid, metric, qualifier, (start, span[1]), plan, after_id=last_id)


def _merge(*parts: list[Agg]) -> list[tuple[int, float, float, float]]:
    """(bucket, min, avg, max) per bucket over every part, oldest first."""
    acc: dict[int, list[float]] = {}
    for part in parts:
        for t, lo, total, n, hi in part:
            cur = acc.get(t)
            if cur is None:
                acc[t] = [lo, total, n, hi]
            else:
                cur[0], cur[1], cur[2], cur[3] = min(cur[0], lo), cur[1] + total, cur[2] + n, max(cur[3], hi)
    return [(t, v[0], v[1] / v[2], v[3]) for t, v in sorted(acc.items()) if v[2]]


def pick_qualifier(metric: str, given: Mapping[str, str | None]) -> str | None:
    """The value of the one parameter (path, service, device, probe) `metric` takes among `given`,
    the others ignored; ValueError naming it when it is required and missing."""
    wanted = METRIC_QUALIFIER.get(metric)
    if wanted is None:
        return None
    value = given.get(wanted)
    if value is None and QUALIFIER_DEFAULT[wanted] is None:
        raise ValueError(f"{wanted}: required for {metric} (which {wanted} to chart)")
    return value


def qualifier_of(metric: str, given: str | None) -> str:
    """The series of a metric of many series: the path, service, device or endpoint check given,
    else the default one ("/" for disk paths, "httpd" for services)."""
    return given or QUALIFIER_DEFAULT[METRIC_QUALIFIER[metric]] or ""


def metric_key(metric: str, qualifier: str | None) -> str:
    """The rollup metric name for `metric` (a metric of many series is per path, service, device
    or endpoint check: "disk_percent:/", "net_rx_bytes:eth0")."""
    if metric not in METRIC_QUALIFIER:
        return metric
    return f"{metric}:{qualifier_of(metric, qualifier)}"


def series(
    *,
    conn: Connection,
    host: str,
    metric: str,
    qualifier: str | None,
    since: int,
    until: int,
    points: int,
    now: int,
    keep: Retentions,
) -> Series:
    """The series of `metric` for `host` over [since, until] in at most `points` buckets."""
    plan = choose_tier(since=since, until=until, points=points, now=now, keep=keep)
    tier, width = plan.tier, plan.width
    hid = dims.host_id(conn=conn, name=host, create=False)
    if hid is None:
        return Series(width, [])
    if tier is None:
        return Series(width, _merge(_raw_buckets(conn, hid, metric, qualifier, (since, until), plan)))
    mid = dims.metric_id(conn=conn, name=metric_key(metric, qualifier), create=False)
    folded = [] if mid is None else _rollup_buckets(conn, hid, mid, until, plan)
    # Rollups are folded once per fold interval; the checks since then complete the newest buckets.
    unfolded = _unfolded_buckets(conn, hid, metric, qualifier, (since, until), plan)
    return Series(width, _merge(folded, unfolded))
