"""/api/v2/probes: each endpoint check ([[probes.http]], [[probes.tcp]]) and its latest result."""

from __future__ import annotations

import time

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.probe_schemas import ProbeOut

router = APIRouter(prefix="/api/v2/probes", tags=["probes"])


@router.get("", response_model=list[ProbeOut], summary="Endpoint checks and their latest results")
def probes(monitor: MonitorDep) -> list[ProbeOut]:
    """Every configured endpoint check in config order, from memory (never waits for a run)."""
    runner = monitor.endpoints
    now = time.time()
    return [ProbeOut.of(check, runner.result(check.name), now) for check in runner.checks]
