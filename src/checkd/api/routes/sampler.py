"""/api/v2/sampler: status, start, stop and interval."""

from __future__ import annotations

from fastapi import APIRouter

from checkd.api.deps import MonitorDep
from checkd.api.respond import error_responses, sampler_out
from checkd.api.sampler_control import SamplerActor, change_interval, change_sampler
from checkd.schemas import SamplerOut, SamplerUpdate

router = APIRouter(prefix="/api/v2/sampler", tags=["sampler"])
# 503: the change applied but could not be saved (database down, disk full); the detail says so,
# and the save is retried until it holds. The change is never reverted.
_auth = error_responses(401, 403, 429, 503)
_auth_bad = error_responses(401, 403, 413, 422, 429, 503)


@router.get("", response_model=SamplerOut, summary="Sampler state and counters")
def sampler_status(monitor: MonitorDep) -> SamplerOut:
    """Running or not, interval, last check, error counters, failing probes, writes waiting to be saved."""
    return sampler_out(monitor)


@router.post("/start", response_model=SamplerOut, summary="Start sampling (idempotent)", responses=_auth)
async def start_sampler(monitor: MonitorDep, actor: SamplerActor) -> SamplerOut:
    """Start the sampler; says 'already running' and changes nothing when it runs.

    503: started, but the state could not be saved yet (retried until it is)."""
    return await change_sampler(monitor, actor, "start")


@router.post("/stop", response_model=SamplerOut, summary="Stop sampling (idempotent)", responses=_auth)
async def stop_sampler(monitor: MonitorDep, actor: SamplerActor) -> SamplerOut:
    """Stop the sampler (the current check is finished and written first).

    503: stopped, but the state could not be saved yet (retried until it is)."""
    return await change_sampler(monitor, actor, "stop")


@router.put("", response_model=SamplerOut, summary="Set the interval", responses=_auth_bad)
async def set_interval(body: SamplerUpdate, monitor: MonitorDep, actor: SamplerActor) -> SamplerOut:
    """Change the interval (1..86400 s); it is remembered across restarts and audited (old → new).

    503: the interval applies, but could not be saved yet (retried until it is)."""
    return await change_interval(monitor, actor, body.interval_s)
