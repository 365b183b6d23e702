"""A service action for a host whose agent runs it: queued in the database, answered by the agent.

The collector holding the request waits for the result (any collector's long poll may hand the
action to the agent); the audit log records host, actor and outcome, a 504 included."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC

from fastapi import HTTPException
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from checkd import store
from checkd.api.deps import require_ready
from checkd.fleet_schemas import AgentActionResult
from checkd.monitor import Monitor
from checkd.schemas import ActionOut
from checkd.store.agent_actions import ActionProgress, action_progress, expire_action, queue_action
from checkd.vocabulary import Action

POLL_S = 0.2  # how often the waiting request looks for the agent's answer
RESULT_WAIT_S = 3600.0  # an action taken by its agent may run up to its service's timeout (≤ 1 h)


def _audit(monitor: Monitor, host: str, entry: store.AuditEntry) -> None:
    def write(conn: Connection) -> None:
        store.record_action(conn=conn, host=host, entry=entry)

    monitor.audit.submit(write)


def _queue(monitor: Monitor, host: str, name: str, action: str, actor: str, wait_s: float) -> int:
    with monitor.engine.begin() as conn:
        if store.host_id(conn=conn, name=host, create=False) is None:
            raise HTTPException(404, f"host: no host named {host!r} in this database")
        now = time.time()
        return queue_action(
            conn=conn, host=host, service=name, action=action, actor=actor, now=now, expires_at=now + wait_s
        )


def _progress(monitor: Monitor, action_id: int) -> ActionProgress | None:
    with monitor.engine.connect() as conn:
        return action_progress(conn=conn, action_id=action_id)


def _expire(monitor: Monitor, action_id: int) -> bool:
    with monitor.engine.begin() as conn:
        return expire_action(conn=conn, action_id=action_id)


def _answer(
    monitor: Monitor, host: str, actor: str, name: str, action: Action, raw: str
) -> tuple[int, ActionOut]:
    result = AgentActionResult.model_validate(json.loads(raw))
    if result.status in (403, 404, 409):  # refused on the agent's host: the usual refusal answers
        _audit(monitor, host, store.AuditEntry.instant(actor, name, action, result.status, result.message))
        raise HTTPException(result.status, result.message)
    if result.at.tzinfo is None:  # a time without a zone is UTC
        result = result.model_copy(update={"at": result.at.replace(tzinfo=UTC)})
    _audit(monitor, host, store.AuditEntry.of_outcome(actor, name, action, result))
    body = ActionOut(
        service=name,
        action=action,
        ok=result.ok,
        state=result.state,
        exit_code=result.exit_code,
        output=result.output,
        duration_ms=result.duration_ms,
        at=result.at.astimezone(UTC),
        message=result.message,
        detail=None if result.ok else result.message,
    )
    return result.status, body


async def perform_remote(
    monitor: Monitor, actor: str, host: str, name: str, action: Action, wait_s: float
) -> tuple[int, ActionOut]:
    """Queue `action` for `host`'s agent and wait for its result; 504 (recorded) when no agent takes
    it within `wait_s`, or none answers once taken."""
    require_ready(monitor)
    action_id = await run_in_threadpool(_queue, monitor, host, name, action, actor, wait_s)
    queued_until = time.monotonic() + wait_s
    taken_at: float | None = None
    while True:
        await asyncio.sleep(POLL_S)
        progress = await run_in_threadpool(_progress, monitor, action_id)
        if progress is None:
            raise HTTPException(503, "database: the queued action is gone")
        if progress.status == "done" and progress.result is not None:
            return await run_in_threadpool(_answer, monitor, host, actor, name, action, progress.result)
        now = time.monotonic()
        if progress.status == "queued" and now > queued_until:
            if await run_in_threadpool(_expire, monitor, action_id):
                why = f"host: no agent of {host!r} took the action within {wait_s:g}s (recorded as expired)"
                break
        elif progress.status == "taken":
            taken_at = taken_at or now
            if now - taken_at > RESULT_WAIT_S:
                why = f"host: the agent of {host!r} took the action but sent no result"
                break
    _audit(monitor, host, store.AuditEntry.instant(actor, name, action, 504, why))
    raise HTTPException(504, why)
