"""A least-squares line through a metric's 1-minute rollups: the same few aggregates at any history size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Float, cast, func, select

from checkd.models import rollups
from checkd.store import dims
from checkd.store.rollups import MINUTE

MIN_BUCKETS = 3  # fewer minute buckets than this is no trend


@dataclass(frozen=True)
class Trend:
    """value(t) = level + slope * (t - at): `slope` per second, `level` the fitted value at `at`."""

    slope: float
    level: float
    at: float
    buckets: int


def linear_trend(*, conn: Connection, host: str, metric_key: str, since: int, until: int) -> Trend | None:
    """The fit over [since, until] of the bucket averages; None when there are too few buckets."""
    hid = dims.host_id(conn=conn, name=host, create=False)
    mid = dims.metric_id(conn=conn, name=metric_key, create=False)
    if hid is None or mid is None:
        return None
    x = cast(rollups.c.bucket - since, Float)  # relative times keep the sums' precision
    y = rollups.c.total / rollups.c.count
    row = conn.execute(
        select(func.count(), func.sum(x), func.sum(y), func.sum(x * x), func.sum(x * y)).where(
            rollups.c.tier == MINUTE,
            rollups.c.host_id == hid,
            rollups.c.metric_id == mid,
            rollups.c.bucket.between(since, until),
        )
    ).one()
    n = int(row[0] or 0)
    if n < MIN_BUCKETS:
        return None
    sx, sy, sxx, sxy = (float(v) for v in row[1:])
    spread = n * sxx - sx * sx
    if spread <= 0:
        return None
    slope = (n * sxy - sx * sy) / spread
    intercept = (sy - slope * sx) / n
    return Trend(slope=slope, level=intercept + slope * (until - since), at=float(until), buckets=n)
