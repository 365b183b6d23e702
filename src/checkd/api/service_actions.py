"""Run one service action for a route (v1 or v2): off the event loop, audited, mapped to HTTP."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC

from fastapi import HTTPException
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from checkd import store
from checkd.control import Action, ActionInProgress, ActionResult, NotControllable, UnknownService
from checkd.monitor import Monitor
from checkd.schemas import ActionOut

log = logging.getLogger(__name__)

ActionListener = Callable[[ActionResult], None]


def _audit(monitor: Monitor, entry: store.AuditEntry) -> None:
    """Record `entry`; while the database fails it waits in memory, in order, and is retried."""

    def write(conn: Connection) -> None:
        store.record_action(conn=conn, host=monitor.host, entry=entry)

    if monitor.audit.submit(write) is not None:  # the action happened: it is answered all the same
        log.warning("audit entry for %s %s waits for the database", entry.action, entry.service)


def _refused(
    monitor: Monitor, actor: str, name: str, action: str, status: int, message: str
) -> HTTPException:
    entry = store.AuditEntry(
        at_ms=int(time.time() * 1000),
        actor=actor,
        service=name[:300],
        action=action,
        ok=False,
        status=status,
        state=None,
        exit_code=None,
        duration_ms=0,
        message=message,
        output="",
    )
    _audit(monitor, entry)
    return HTTPException(status, message)


def _run(monitor: Monitor, actor: str, name: str, action: Action) -> ActionResult:
    try:
        result = monitor.registry.act(name, action)
    except UnknownService:
        raise _refused(monitor, actor, name, action, 404, f"name: no configured service {name!r}") from None
    except NotControllable:
        raise _refused(
            monitor, actor, name, action, 403, f"name: service {name!r} has control = false"
        ) from None
    except ActionInProgress:
        raise _refused(
            monitor, actor, name, action, 409, f"name: another action on {name!r} is still running"
        ) from None
    _audit(
        monitor,
        store.AuditEntry(
            at_ms=int(result.at.timestamp() * 1000),
            actor=actor,
            service=name,
            action=action,
            ok=result.ok,
            status=result.status,
            state=result.state.value,
            exit_code=result.exit_code,
            duration_ms=result.duration_ms,
            message=result.message,
            output=result.output,
        ),
    )
    for listener in monitor.action_listeners:
        listener(result)
    return result


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
