"""Sampler start/stop/interval via the API: who asked, the change, its audit-log entry (refusals too)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from checkd.api.deps import MonitorDep, authenticate, bearer_scheme, operator_name, require_scope
from checkd.api.respond import sampler_answer
from checkd.monitor import Monitor
from checkd.schemas import SamplerOut

SamplerAction = Literal["start", "stop"]
_WORDS = {"start": ("started", "already running"), "stop": ("stopped", "already stopped")}
INTERVAL = "interval"  # the audit log's `action` for a change of the sampling interval


def _action_of(request: Request) -> str:
    if request.method == "PUT":
        return INTERVAL
    return "stop" if request.url.path.rstrip("/").endswith("stop") else "start"


def sampler_actor(
    request: Request,
    monitor: MonitorDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The operator of a sampler start/stop/interval; a token without `operate` is refused (403), audited.

    A missing or wrong token (401) names no one, so it is refused without an entry."""
    try:
        principal = require_scope("operate")(request, creds)
    except HTTPException as exc:
        if exc.status_code == 403:
            who = authenticate(request).name
            monitor.actions.record_sampler(
                who, _action_of(request), status=403, ok=False, state=None, message=str(exc.detail)
            )
        raise
    return operator_name(request, principal)


SamplerActor = Annotated[str, Depends(sampler_actor)]


async def change_sampler(monitor: Monitor, actor: str, action: SamplerAction) -> SamplerOut:
    """Start or stop the sampler for `actor`, audit it, and answer its status (503: not saved yet)."""
    run = monitor.start_sampler if action == "start" else monitor.stop_sampler
    change = await run_in_threadpool(run)
    done, already = _WORDS[action]
    message = done if change.changed else already
    saved = change.unsaved is None
    monitor.actions.record_sampler(
        actor,
        action,
        status=200 if saved else 503,
        ok=True,  # the change applies at once; an unsaved one is retried, never reverted
        state=_state(monitor),
        message=change.unsaved or message,
    )
    return sampler_answer(monitor, change, message)


def _state(monitor: Monitor) -> str:
    return "running" if monitor.sampler.running else "stopped"


async def change_interval(monitor: Monitor, actor: str, interval_s: int) -> SamplerOut:
    """Set the sampling interval for `actor` and audit it as "interval OLD s → NEW s" (503: not saved yet)."""
    old = monitor.sampler.interval_s
    change = await run_in_threadpool(monitor.set_interval, interval_s)
    message = f"interval set to {interval_s}s"
    monitor.actions.record_sampler(
        actor,
        INTERVAL,
        status=200 if change.unsaved is None else 503,
        ok=True,  # applied at once, as a start/stop; an unsaved one is retried
        state=_state(monitor),
        message=f"interval {old}s → {interval_s}s" + (f"; {change.unsaved}" if change.unsaved else ""),
    )
    return sampler_answer(monitor, change, message)
