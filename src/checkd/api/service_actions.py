"""Run one service action for a route (v1 or v2): off the event loop, mapped to HTTP."""

from __future__ import annotations

from datetime import UTC

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from checkd.audited_actions import ActionRefused
from checkd.control import Action, ActionResult
from checkd.monitor import Monitor
from checkd.schemas import ActionOut


def _run(monitor: Monitor, actor: str, name: str, action: Action) -> ActionResult:
    try:
        return monitor.actions.run(actor, name, action)
    except ActionRefused as exc:
        raise HTTPException(exc.status, exc.message) from None


async def perform(monitor: Monitor, actor: str, name: str, action: Action) -> tuple[int, ActionOut]:
    """Run `action` on service `name` in a worker thread; (HTTP status, body). Raises 403/404/409."""
    result = await run_in_threadpool(_run, monitor, actor, name, action)
    body = ActionOut(
        service=result.service,
        action=action,
        ok=result.ok,
        state=result.state.value,
        exit_code=result.exit_code,
        output=result.output,
        duration_ms=result.duration_ms,
        at=result.at.astimezone(UTC) if result.at.tzinfo else result.at.replace(tzinfo=UTC),
        message=result.message,
        detail=None if result.ok else result.message,
    )
    return result.status, body
