"""/api/v2/alerts: alerts newest first, the rules and their state, silences."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from checkd.alert_schemas import AlertOut, AlertPage, AlertStateName, RuleOut, SilenceIn
from checkd.api.deps import Actor, MonitorDep, Read, resolve_host
from checkd.api.respond import error_responses
from checkd.config import parse_duration
from checkd.schemas import utc
from checkd.store.alerts import AlertRow, get_alert, list_alerts

router = APIRouter(prefix="/api/v2/alerts", tags=["alerts"])


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or not 1 <= int(cursor) <= 2**62:
        raise HTTPException(422, "cursor: not a cursor returned by this API")
    return int(cursor)


@router.get("", response_model=AlertPage, summary="Alerts, newest first", responses=error_responses(404, 422))
async def alerts(
    read: Read,
    monitor: MonitorDep,
    state: Annotated[AlertStateName | None, Query(description="only alerts in this state")] = None,
    host: Annotated[
        str | None, Query(min_length=1, max_length=255, description="only this host's (default: every host)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size, 1..1000")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=30, description="next_cursor of the previous page")
    ] = None,
) -> AlertPage:
    """Every alert episode (pending, firing, gave-up, resolved), newest first."""
    before_id = _before(cursor)

    def page(conn: Connection) -> list[AlertRow]:
        if host is not None:
            resolve_host(conn, monitor, host)  # 404 naming `host` when the database never saw it
        return list_alerts(conn=conn, host=host, state=state, limit=limit, before_id=before_id)

    items = await read(page)
    nxt = str(items[-1].id) if len(items) == limit else None
    return AlertPage(items=[AlertOut.of(a) for a in items], next_cursor=nxt)


@router.get("/rules", response_model=list[RuleOut], summary="Configured rules and their state now")
def rules(monitor: MonitorDep) -> list[RuleOut]:
    """Every rule in config order: its active alert's state (or inactive), last value and since when."""
    return [
        RuleOut(
            name=s.name,
            kind=s.kind,
            severity=s.severity,
            state=s.state,
            value=s.value,
            since=utc(s.since),
        )
        for s in monitor.alerts.statuses()
    ]


@router.post(
    "/{alert_id}/silence",
    response_model=AlertOut,
    summary="Hold back an alert's notifications for a while",
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
async def silence(
    alert_id: Annotated[int, Path(ge=1, le=2**62, description="the alert's id")],
    body: SilenceIn,
    monitor: MonitorDep,
    _actor: Actor,
    read: Read,
) -> AlertOut:
    """No notifications of this alert until now + `for`; evaluation goes on. `"0s"` lifts it."""
    until = time.time() + parse_duration(body.for_)
    if not await run_in_threadpool(monitor.alerts.silence, alert_id, until):
        raise HTTPException(404, f"alert_id: no alert {alert_id}")
    found = await read(lambda conn: get_alert(conn=conn, alert_id=alert_id))
    assert found is not None
    return AlertOut.of(found)
