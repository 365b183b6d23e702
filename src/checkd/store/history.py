"""History series: min/avg/max per bucket from raw checks or rollups, at most `points` buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from checkd.models import (
    LOAD_SCALE,
    PCT_SCALE,
    check_disks,
    check_services,
    checks,
    disk_paths,
    rollups,
    service_names,
)
from checkd.store import dims
from checkd.store.codec import STATE_CODE
from checkd.store.rollups import HOUR, MINUTE, TIER_SECONDS
from checkd.vocabulary import HISTORY_METRICS

METRICS = HISTORY_METRICS
_RAW = {"cpu_percent": (checks.c.cpu_pct, PCT_SCALE), "mem_percent": (checks.c.mem_pct, PCT_SCALE),
        "load1": (checks.c.load1, LOAD_SCALE)}  # fmt: skip


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


def _raw_query(
    conn: Connection, hid: int, metric: str, qualifier: str | None, span: tuple[int, int], plan: Plan
) -> list[tuple[int, float, float, float]]:
    bucket = plan.origin + ((checks.c.taken_at - plan.origin) // plan.width) * plan.width
    where: list[Any] = [checks.c.host_id == hid, checks.c.taken_at.between(*span)]
    col: Any
    if metric in _RAW:
        col, scale = _RAW[metric]
        q = select(checks)
    elif metric == "disk_percent":
        pid = dims.lookup_id(conn=conn, table=disk_paths, column="path", value=qualifier or "/")
        col, scale = check_disks.c.pct, PCT_SCALE
        q = select(checks).join(check_disks, check_disks.c.check_id == checks.c.id)
        where.append(check_disks.c.path_id == pid)
    else:
        sid = dims.lookup_id(conn=conn, table=service_names, column="name", value=qualifier or "httpd")
        col, scale = case((check_services.c.state == STATE_CODE["active"], 100.0), else_=0.0), 1
        q = select(checks).join(check_services, check_services.c.check_id == checks.c.id)
        where.append(check_services.c.service_id == sid)
    where.append(col.is_not(None))
    q = q.with_only_columns(bucket.label("t"), func.min(col), func.avg(col), func.max(col)).where(*where)
    rows = conn.execute(q.group_by(bucket).order_by(bucket)).all()
    return [(int(t), lo / scale, avg / scale, hi / scale) for t, lo, avg, hi in rows]


def metric_key(metric: str, qualifier: str | None) -> str:
    """The rollup metric name for `metric` (disk and availability are per path / service)."""
    if metric == "disk_percent":
        return f"disk_percent:{qualifier or '/'}"
    if metric == "availability":
        return f"availability:{qualifier or 'httpd'}"
    return metric


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
        out = _raw_query(conn, hid, metric, qualifier, (since, until), plan)
    else:
        mid = dims.metric_id(conn=conn, name=metric_key(metric, qualifier), create=False)
        if mid is None:
            return Series(width, [])
        bucket = plan.origin + ((rollups.c.bucket - plan.origin) // width) * width
        q = (
            select(
                bucket.label("t"),
                func.min(rollups.c.min),
                func.sum(rollups.c.total) / func.sum(rollups.c.count),
                func.max(rollups.c.max),
            )
            .where(
                rollups.c.tier == tier,
                rollups.c.host_id == hid,
                rollups.c.metric_id == mid,
                rollups.c.bucket.between(plan.origin, until),
            )
            .group_by(bucket)
            .order_by(bucket)
        )
        out = [(int(t), float(lo), float(avg), float(hi)) for t, lo, avg, hi in conn.execute(q)]
    return Series(width, out)
