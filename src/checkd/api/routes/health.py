"""/healthz: is the process up, are the sampler and upkeep healthy, is the database reachable."""

from __future__ import annotations

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.schemas import HealthOut, utc

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="Liveness and sampler health")
def healthz(monitor: MonitorDep) -> HealthOut:
    """`sampler` is running, stopped or failing; `database`, `probes` and `upkeep` are ok or why not
    (each of these not ok makes it degraded); `alerts_firing` counts alerts firing or given up."""
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
    upkeep = monitor.upkeep.status().health
    healthy = sampler != "failing" and database == "ok" and probes == "ok" and upkeep == "ok"
    return HealthOut(
        status="ok" if healthy else "degraded",
        sampler=sampler,
        database=database,
        probes=probes,
        upkeep=upkeep,
        alerts_firing=monitor.alerts.firing_count(),
    )
