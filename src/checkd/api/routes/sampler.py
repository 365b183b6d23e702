"""/api/v2/sampler: status, start, stop and interval."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from checkd.api.deps import Actor, MonitorDep
from checkd.api.respond import error_responses
from checkd.schemas import SamplerOut, SamplerUpdate

router = APIRouter(prefix="/api/v2/sampler", tags=["sampler"])
_auth = error_responses(401, 403, 429)
_auth_bad = error_responses(401, 403, 413, 422, 429)


@router.get("", response_model=SamplerOut, summary="Sampler state and counters")
def sampler_status(monitor: MonitorDep) -> SamplerOut:
    """Running or not, interval, last check and error counters."""
    return SamplerOut.of(monitor.sampler.status())


@router.post("/start", response_model=SamplerOut, summary="Start sampling (idempotent)", responses=_auth)
async def start_sampler(monitor: MonitorDep, _actor: Actor) -> SamplerOut:
    """Start the sampler; says 'already running' and changes nothing when it runs."""
    started = await run_in_threadpool(monitor.start_sampler)
    return SamplerOut.of(monitor.sampler.status(), "started" if started else "already running")


@router.post("/stop", response_model=SamplerOut, summary="Stop sampling (idempotent)", responses=_auth)
async def stop_sampler(monitor: MonitorDep, _actor: Actor) -> SamplerOut:
    """Stop the sampler (the current check is finished and written first)."""
    stopped = await run_in_threadpool(monitor.stop_sampler)
    return SamplerOut.of(monitor.sampler.status(), "stopped" if stopped else "already stopped")


@router.put("", response_model=SamplerOut, summary="Set the interval", responses=_auth_bad)
async def set_interval(body: SamplerUpdate, monitor: MonitorDep, _actor: Actor) -> SamplerOut:
    """Change the interval (1..86400 s); it is remembered across restarts."""
    await run_in_threadpool(monitor.set_interval, body.interval_s)
    return SamplerOut.of(monitor.sampler.status(), f"interval set to {body.interval_s}s")
