"""Helpers for routes: run blocking store reads off the event loop, cache local-host bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from checkd.api.cache import ResponseCache
from checkd.api.deps import require_ready
from checkd.monitor import Monitor, StateChange
from checkd.schemas import SamplerOut

JSON = "application/json"


def read_with(monitor: Monitor, work: Callable[[Connection], bytes]) -> bytes:
    """Run `work` on a fresh connection; 503 while the database is not ready."""
    require_ready(monitor)
    with monitor.engine.connect() as conn:
        return work(conn)


async def cached_json(
    request: Request, monitor: Monitor, host: str | None, work: Callable[[Connection], bytes]
) -> Response:
    """The JSON body `work` builds, served from the cache while no newer check is stored.

    Only reads about this checkd's own host are cached: other hosts' checks arrive through the
    shared database without this process knowing."""
    local = host is None or host == monitor.host
    cache: ResponseCache = request.app.state.cache
    key = f"{request.url.path}?{request.url.query}"
    if local:
        body = cache.get(key)
        if body is not None:
            return Response(body, media_type=JSON)
    generation = cache.generation
    body = await run_in_threadpool(read_with, monitor, work)
    if local:
        cache.put(key, generation, body)
    return Response(body, media_type=JSON)


_DESCRIPTIONS = {
    401: "missing or wrong token",
    403: "the token lacks the scope this route needs (`detail` names it), or the service has control = false",
    404: "not found; `detail` names the parameter",
    409: "another action on this service is running",
    413: "the body is larger than server.max_body (1 MiB by default)",
    422: "a bad parameter or body; `detail` names it",
    429: "too many failed authentications from this client; see Retry-After",
    502: "the command failed or the state did not follow",
    503: "the database is unavailable (`detail` says why); a sampler change applies but is not saved yet",
    504: "the command timed out; its process group was killed",
}


def sampler_out(monitor: Monitor, message: str | None = None) -> SamplerOut:
    """The sampler's status, with what waits to be saved (audit entries, its own state)."""
    return SamplerOut.of(
        monitor.sampler.status(),
        message,
        audit=monitor.audit.status(),
        state_saved=not monitor.state_saves.pending,
    )


def sampler_answer(monitor: Monitor, change: StateChange, message: str) -> SamplerOut:
    """The sampler's status after a start/stop/interval call; 503 saying so when it is not saved."""
    if change.unsaved is not None:
        raise HTTPException(503, change.unsaved)
    return sampler_out(monitor, message)


def error_responses(*codes: int, body: Any = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for `codes`: ErrorOut bodies, or `body` for 502/504 (action results)."""
    from checkd.schemas import ErrorOut

    return {
        code: {
            "model": body if code in (502, 504) and body is not None else ErrorOut,
            "description": _DESCRIPTIONS[code],
        }
        for code in codes
    }
