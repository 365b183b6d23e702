"""The exam system's /v1.0 routes, kept working (with or without the trailing slash)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from checkd import store
from checkd.api.cache import cache_until_next_check
from checkd.api.deps import Actor, MonitorDep, Read
from checkd.api.respond import error_responses
from checkd.api.sampler_control import SamplerActor, change_sampler
from checkd.api.service_actions import perform
from checkd.schemas import ActionOut, CheckV1, CpuPoint, SamplerOut, utc

router = APIRouter(prefix="/v1.0/checks", tags=["v1.0 (compatibility)"])

Limit = Annotated[int, Query(ge=1, le=10000, description="how many of the newest checks, 1..10000")]
Size = Annotated[int, Query(ge=0, le=10000, description="how many of the newest cpu readings, 0..10000")]


@router.get(
    "/",
    response_model=list[CheckV1],
    summary="Newest checks, oldest first",
    responses=error_responses(422),
    dependencies=[cache_until_next_check()],
)
async def checks(read: Read, monitor: MonitorDep, limit: Limit = 100) -> list[CheckV1]:
    """The newest `limit` checks of this host, oldest first, in the exam system's shape."""
    items = await read(lambda conn: store.list_checks(conn=conn, host=monitor.host, limit=limit))
    return [CheckV1.of(c) for c in reversed(items)]


@router.get(
    "/cpu/history",
    response_model=list[CpuPoint],
    summary="Newest cpu readings",
    responses=error_responses(422),
    dependencies=[cache_until_next_check()],
)
async def cpu_history(read: Read, monitor: MonitorDep, size: Size = 10) -> list[CpuPoint]:
    """The newest `size` cpu readings, oldest first; fewer when fewer exist."""
    rows = await read(lambda conn: store.cpu_history(conn=conn, host=monitor.host, size=size))
    return [CpuPoint(taken_at=utc(t), cpu=c) for t, c in rows]


@router.get(
    "/start",
    response_model=SamplerOut,
    summary="Start the sampler",
    responses=error_responses(401, 403, 429, 503),
)
async def start(monitor: MonitorDep, actor: SamplerActor) -> SamplerOut:
    """Start sampling (a no-op that says so when it already runs)."""
    return await change_sampler(monitor, actor, "start")


@router.get(
    "/stop",
    response_model=SamplerOut,
    summary="Stop the sampler",
    responses=error_responses(401, 403, 429, 503),
)
async def stop(monitor: MonitorDep, actor: SamplerActor) -> SamplerOut:
    """Stop sampling (a no-op that says so when it is stopped)."""
    return await change_sampler(monitor, actor, "stop")


_action_responses = error_responses(401, 403, 404, 409, 429, 502, 504, body=ActionOut)


@router.get("/start/httpd", response_model=ActionOut, summary="Start httpd", responses=_action_responses)
async def start_httpd(monitor: MonitorDep, actor: Actor) -> JSONResponse:
    """Start the service configured as `httpd` and wait for it to be active."""
    status, body = await perform(monitor, actor, "httpd", "start")
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


@router.get("/stop/httpd", response_model=ActionOut, summary="Stop httpd", responses=_action_responses)
async def stop_httpd(monitor: MonitorDep, actor: Actor) -> JSONResponse:
    """Stop the service configured as `httpd` and wait for it to be inactive."""
    status, body = await perform(monitor, actor, "httpd", "stop")
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def _add_slash_variants(api_router: APIRouter) -> None:
    """Serve each route with and without its trailing slash, as the exam system did (no redirects)."""
    for route in list(api_router.routes):
        if not isinstance(route, APIRoute):
            continue
        other = route.path.rstrip("/") if route.path.endswith("/") else route.path + "/"
        api_router.add_api_route(
            other[len(api_router.prefix) :],
            route.endpoint,
            methods=sorted(route.methods or ()),
            response_model=route.response_model,
            dependencies=route.dependencies,
            include_in_schema=False,
        )


_add_slash_variants(router)
