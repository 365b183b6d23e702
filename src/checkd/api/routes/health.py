"""/healthz: is the process up, is the sampler healthy, is the database reachable."""

from __future__ import annotations

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="Liveness and sampler health")
def healthz(monitor: MonitorDep) -> HealthOut:
    """`sampler` is running, stopped or failing; `database` is ok or why it is not."""
    st = monitor.sampler.status()
    sampler = "failing" if st.failing else ("running" if st.running else "stopped")
    database = "ok" if monitor.ready.is_set() else f"unavailable: {monitor.database_error or 'starting up'}"
    if st.failing and st.last_error and database == "ok" and st.pending_writes:
        database = f"unavailable: {st.last_error}"
    status = "ok" if sampler != "failing" and database == "ok" else "degraded"
    firing = monitor.alerts.firing_count()
    return HealthOut(status=status, sampler=sampler, database=database, alerts_firing=firing)
