"""`checkd history METRIC`: any stored history metric from the store, as min/avg/max buckets."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from checkd.cli.common import ConfigOpt, DatabaseUrlOpt, DataDirOpt, fail, settings_from
from checkd.config import parse_duration
from checkd.vocabulary import HISTORY_METRICS

CPU_READINGS = "cpu"  # `checkd history cpu --size N`: the newest N raw cpu readings (issue 2's command)


def _iso(t: float) -> str:
    from checkd.schemas import utc

    return utc(t).isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]


def history(
    metric: Annotated[
        str,
        typer.Argument(
            help=f"{CPU_READINGS} (the newest raw readings, with --size) or a history metric: "
            + ", ".join(HISTORY_METRICS),
            show_default=False,
        ),
    ],
    since: Annotated[str, typer.Option(help="how far back, e.g. 30m, 1h, 7d")] = "1h",
    points: Annotated[int, typer.Option(min=1, max=5000, help="at most this many buckets")] = 60,
    path: Annotated[
        str | None, typer.Option(help="disk path for disk_percent, inodes_percent (default /)")
    ] = None,
    service: Annotated[str | None, typer.Option(help="service for availability (default httpd)")] = None,
    device: Annotated[str | None, typer.Option(help="interface or block device for net_*, disk_*")] = None,
    probe: Annotated[str | None, typer.Option(help="endpoint check for probe_up, probe_latency_ms")] = None,
    size: Annotated[
        int, typer.Option(min=0, max=10000, help="with cpu: how many of the newest readings")
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    host_name: Annotated[str | None, typer.Option("--host", help="host [default: this host]")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Print METRIC's history from the store: `time min avg max` per bucket, oldest first."""
    from checkd import store
    from checkd.db import make_engine

    if metric != CPU_READINGS and metric not in HISTORY_METRICS:
        fail(f"METRIC: unknown metric {metric!r}; one of {CPU_READINGS}, {', '.join(HISTORY_METRICS)}")
    try:
        span = parse_duration(since)
    except ValueError as exc:
        fail(f"--since: {exc}")
    try:
        qualifier = store.pick_qualifier(
            metric, {"path": path, "service": service, "device": device, "probe": probe}
        )
    except ValueError as exc:
        fail(f"--{exc}")
    settings = settings_from(config, data_dir, database_url)
    host = host_name or settings.host_name
    now = int(time.time())
    keep = store.Retentions(
        raw=settings.retention.seconds("raw"), minute=settings.retention.seconds("minute")
    )
    try:
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            if metric == CPU_READINGS:
                readings = store.cpu_history(conn=conn, host=host, size=size)
            else:
                window = {"since": now - span, "until": now, "points": points, "now": now}
                series = store.series(
                    conn=conn, host=host, metric=metric, qualifier=qualifier, keep=keep, **window
                )
    except Exception as exc:  # any database fault: one line, no traceback
        fail(f"database: {str(exc).splitlines()[0]}")
    if metric == CPU_READINGS:
        for t, cpu in readings:
            typer.echo(f"{_iso(t)}  {'-' if cpu is None else cpu}")
        return
    if as_json:
        rows = [{"t": _iso(t), "min": lo, "avg": avg, "max": hi} for t, lo, avg, hi in series.points]
        typer.echo(json.dumps({"metric": metric, "resolution_s": series.resolution_s, "points": rows}))
        return
    for t, lo, avg, hi in series.points:
        typer.echo(f"{_iso(t)}  {lo:g}  {avg:.6g}  {hi:g}")
