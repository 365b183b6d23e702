"""/api/v2/agents/{host}/actions: a fleet agent long-polls its host's queued actions and answers them."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from checkd.api.agent_wakeups import AgentWakeups
from checkd.api.authn import Principal
from checkd.api.deps import MonitorDep, require_ready, require_scope, token_revoked
from checkd.api.respond import error_responses
from checkd.fleet_schemas import AgentActionAck, AgentActionResult, QueuedActionOut
from checkd.monitor import Monitor
from checkd.store.agent_actions import QueuedAction, finish_action, take_actions
from checkd.store.tokens import TokenGone

router = APIRouter(prefix="/api/v2/agents", tags=["fleet"])

HostPath = Annotated[str, Path(min_length=1, max_length=255, description="the agent's host name")]
Ingest = Annotated[Principal, Depends(require_scope("ingest"))]


def _own_host(principal: Principal, host: str) -> None:
    if principal.scope == "ingest" and principal.host != host:
        raise HTTPException(403, f"host: this token belongs to host {principal.host!r}")


def _take(monitor: Monitor, host: str, token_hash: str | None) -> list[QueuedAction]:
    with monitor.engine.begin() as conn:
        return take_actions(conn=conn, host=host, now=time.time(), token_hash=token_hash)


@router.get(
    "/{host}/actions",
    response_model=list[QueuedActionOut],
    summary="Long-poll the actions queued for this host's agent",
    responses=error_responses(401, 403, 422, 429),
)
async def poll_actions(
    host: HostPath,
    request: Request,
    monitor: MonitorDep,
    principal: Ingest,
    wait: Annotated[int, Query(ge=0, le=60, description="seconds to wait for an action")] = 30,
) -> list[QueuedActionOut]:
    """The actions queued for `host`, each handed out once; waits up to `wait` s for one to appear
    (woken by the database's notification on PostgreSQL, read every 0.5 s on SQLite)."""
    _own_host(principal, host)
    require_ready(monitor)
    deadline = time.monotonic() + wait
    wakeups: AgentWakeups = request.app.state.agent_wakeups
    with wakeups.watching(host) as woken:
        while True:
            woken.clear()  # before the read: what is queued during it wakes the next wait
            try:  # the token again on every look: it may be revoked while the agent waits
                found = await run_in_threadpool(_take, monitor, host, principal.token_hash)
            except TokenGone:
                raise token_revoked(request, principal) from None
            left = deadline - time.monotonic()
            if found or left <= 0 or await request.is_disconnected():
                return [
                    QueuedActionOut(id=a.id, service=a.service, action=a.action, actor=a.actor) for a in found
                ]
            await wakeups.wait(woken, left)


def _finish(
    monitor: Monitor, host: str, action_id: int, result: AgentActionResult, token_hash: str | None
) -> bool:
    with monitor.engine.begin() as conn:
        return finish_action(
            conn=conn, host=host, action_id=action_id, result=result.model_dump_json(), token_hash=token_hash
        )


@router.post(
    "/{host}/actions/{action_id}",
    response_model=AgentActionAck,
    summary="Post the result of an action this host's agent ran",
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
async def post_result(
    host: HostPath,
    action_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="the id the long poll handed out")],
    result: AgentActionResult,
    request: Request,
    monitor: MonitorDep,
    principal: Ingest,
) -> AgentActionAck:
    """Store the result; 404 when this host's agent did not take action `action_id`."""
    _own_host(principal, host)
    require_ready(monitor)
    try:
        finished = await run_in_threadpool(_finish, monitor, host, action_id, result, principal.token_hash)
    except TokenGone:
        raise token_revoked(request, principal) from None
    if not finished:
        raise HTTPException(404, f"action_id: host {host!r} has no taken action {action_id}")
    return AgentActionAck(id=action_id, status="done")
