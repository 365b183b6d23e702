"""/api/v2/services: configured services, their state, and start/stop/restart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from checkd.api.deps import Actor, HostQuery, MonitorDep
from checkd.api.remote_actions import perform_remote
from checkd.api.respond import error_responses
from checkd.api.service_actions import perform
from checkd.control import ServiceInfo, UnknownService
from checkd.schemas import ActionOut, ServiceOut
from checkd.vocabulary import Action

router = APIRouter(prefix="/api/v2/services", tags=["services"])

ServiceName = Annotated[str, Path(max_length=100, description="a configured service name, e.g. httpd")]


def _out(info: ServiceInfo, state: str) -> ServiceOut:
    return ServiceOut(name=info.name, unit=info.unit, state=state, control=info.control)


@router.get("", response_model=list[ServiceOut], summary="Configured services and their state")
async def list_services(monitor: MonitorDep) -> list[ServiceOut]:
    """Every configured service, in config order, with its state now."""
    states = await run_in_threadpool(monitor.registry.states)
    return [_out(i, states.get(i.name, "unknown")) for i in monitor.registry.infos()]


@router.get(
    "/{name}",
    response_model=ServiceOut,
    summary="One service and its state",
    responses=error_responses(404, 422),
)
async def get_service(name: ServiceName, monitor: MonitorDep) -> ServiceOut:
    """The service `name` with its state now; 404 when it is not configured."""
    try:
        info = monitor.registry.info(name)
    except UnknownService:
        raise HTTPException(404, f"name: no configured service {name!r}") from None
    state = await run_in_threadpool(monitor.registry.state, name)
    return _out(info, state.value)


@router.post(
    "/{name}/{action}",
    response_model=ActionOut,
    summary="Start, stop or restart a service",
    responses=error_responses(401, 403, 404, 409, 422, 429, 502, 504, body=ActionOut),
)
async def act(
    name: ServiceName,
    action: Annotated[Action, Path(description="start, stop or restart")],
    monitor: MonitorDep,
    actor: Actor,
    host: HostQuery = None,
    wait: Annotated[
        float, Query(gt=0, le=300, description="a fleet host: seconds its agent has to take the action")
    ] = 30,
) -> JSONResponse:
    """Run the action, then wait until the state follows (or the service's timeout passes).

    Nothing to do is a success: start on an active service and stop on a stopped one run no
    command and answer 200 "already active"/"already inactive"; restart of a stopped one starts it.
    With `host` naming a fleet host, its agent runs the action (queued until it polls; 504, and
    recorded, when it does not take it within `wait` seconds).
    """
    if host is not None and host != monitor.host:
        status, body = await perform_remote(monitor, actor, host, name, action, wait)
        return JSONResponse(body.model_dump(mode="json"), status_code=status)
    status, body = await perform(monitor, actor, name, action)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)
