"""/api/v2/history/{metric}: min/avg/max series at a resolution that fits `points`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import Connection

from checkd import store
from checkd.api.cache import cache_until_next_check
from checkd.api.deps import HostQuery, IsoDateTime, MonitorDep, Read, resolve_host, time_range
from checkd.api.respond import error_responses
from checkd.schemas import HistoryOut, HistoryPoint
from checkd.vocabulary import HistoryMetric

router = APIRouter(prefix="/api/v2/history", tags=["history"])
DEFAULT_SPAN_S = 3600


@router.get(
    "/{metric}",
    response_model=HistoryOut,
    summary="A metric's history as min/avg/max buckets",
    responses=error_responses(404, 422),
    # `until` defaults to now, so only requests with an explicit end are stable enough to cache.
    dependencies=[cache_until_next_check("until")],
)
async def history(
    read: Read,
    monitor: MonitorDep,
    metric: Annotated[
        HistoryMetric,
        Path(
            description="cpu_percent, mem_percent, load1, load1_per_core, swap_percent, procs_total;"
            " per `path`: disk_percent, inodes_percent; per `service`: availability; per `device`:"
            " net_rx_bytes, net_tx_bytes (bytes/s), disk_read_bytes, disk_write_bytes (bytes/s),"
            " disk_busy_percent; per `probe`: probe_up (100/0), probe_latency_ms"
        ),
    ],
    host: HostQuery = None,
    since: Annotated[
        IsoDateTime | None, Query(description="start (ISO 8601); default: `until` - 1 h")
    ] = None,
    until: Annotated[IsoDateTime | None, Query(description="end (ISO 8601); default: now")] = None,
    points: Annotated[int, Query(ge=1, le=5000, description="at most this many buckets, 1..5000")] = 500,
    path: Annotated[
        str | None, Query(max_length=4096, description="disk path for disk_percent (default /)")
    ] = None,
    service: Annotated[
        str | None, Query(max_length=100, description="service for availability (default httpd)")
    ] = None,
    device: Annotated[
        str | None,
        Query(max_length=64, description="network interface or block device for net_* and disk_*_bytes/busy"),
    ] = None,
    probe: Annotated[
        str | None, Query(max_length=100, description="endpoint check for probe_up and probe_latency_ms")
    ] = None,
) -> HistoryOut:
    """Raw checks for short ranges, 1-minute or 1-hour rollups for long ones; `resolution_s` says which."""
    now = int(time.time())
    given_since, given_until = time_range(since, until)
    t1 = now if given_until is None else given_until
    t0 = t1 - DEFAULT_SPAN_S if given_since is None else given_since
    if t0 > t1:
        raise HTTPException(422, "since: must not be after until (which defaults to now)")
    try:
        qualifier = store.pick_qualifier(
            metric, {"path": path, "service": service, "device": device, "probe": probe}
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    keep = store.Retentions(
        raw=monitor.settings.retention.seconds("raw"), minute=monitor.settings.retention.seconds("minute")
    )

    def series(conn: Connection) -> store.Series:
        return store.series(
            conn=conn,
            host=resolve_host(conn, monitor, host),
            metric=metric,
            qualifier=qualifier,
            since=t0,
            until=t1,
            points=points,
            now=now,
            keep=keep,
        )

    s = await read(series)
    return HistoryOut(
        metric=metric,
        resolution_s=s.resolution_s,
        points=[
            HistoryPoint(t=datetime.fromtimestamp(t, UTC), min=lo, avg=avg, max=hi)
            for t, lo, avg, hi in s.points
        ],
    )
