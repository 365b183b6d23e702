"""/api/v2/upkeep: the rollup fold and retention thread, its counters and health."""

from __future__ import annotations

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.schemas import UpkeepOut

router = APIRouter(prefix="/api/v2/upkeep", tags=["upkeep"])


@router.get("", response_model=UpkeepOut, summary="Upkeep state and counters")
def upkeep_status(monitor: MonitorDep) -> UpkeepOut:
    """Rows folded and deleted, failed rounds and the last error, the last fold and its lag."""
    return UpkeepOut.of(monitor.upkeep.status())
