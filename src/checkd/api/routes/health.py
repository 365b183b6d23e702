"""/healthz: is the process up, are the sampler and upkeep healthy, is the database reachable."""

from __future__ import annotations

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="Liveness and sampler health")
def healthz(monitor: MonitorDep) -> HealthOut:
    """`sampler` is running, stopped or failing; `database` is ok or why it is not; `upkeep` is
    failing or behind when the rollup fold fails or lags (each of these makes it degraded)."""
    st = monitor.sampler.status()
    sampler = "failing" if st.failing else ("running" if st.running else "stopped")
    database = "ok" if monitor.ready.is_set() else f"unavailable: {monitor.database_error or 'starting up'}"
    if st.failing and st.last_error and database == "ok" and st.pending_writes:
        database = f"unavailable: {st.last_error}"
    upkeep = monitor.upkeep.status().health
    status = "ok" if sampler != "failing" and database == "ok" and upkeep == "ok" else "degraded"
    return HealthOut(status=status, sampler=sampler, database=database, upkeep=upkeep)
