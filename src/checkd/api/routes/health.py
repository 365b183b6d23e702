"""/healthz: is the process up, is the sampler healthy, is the database reachable."""

from __future__ import annotations

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.schemas import HealthOut, utc

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="Liveness and sampler health")
def healthz(monitor: MonitorDep) -> HealthOut:
    """`sampler` is running, stopped or failing; `database` and `probes` are ok or why they are not."""
    st = monitor.sampler.status()
    sampler = "failing" if st.failing else ("running" if st.running else "stopped")
    database = "ok" if monitor.ready.is_set() else f"unavailable: {monitor.database_error or 'starting up'}"
    database = monitor.check_database_file() or database  # a SQLite file deleted while we ran
    if st.failing and st.last_error and database == "ok" and st.pending_writes:
        database = f"unavailable: {st.last_error}"
    probes = (
        "; ".join(f"{f.error} (failing since {utc(f.since):%Y-%m-%dT%H:%M:%SZ})" for f in st.probe_failures)
        or "ok"
    )
    status = "ok" if sampler != "failing" and database == "ok" and probes == "ok" else "degraded"
    firing = monitor.alerts.firing_count()
    return HealthOut(status=status, sampler=sampler, database=database, probes=probes, alerts_firing=firing)
