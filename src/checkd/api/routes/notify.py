"""/api/v2/notifications (the delivery log) and /api/v2/notify/test."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from checkd.alert_schemas import NotificationOut, NotifyTestOut
from checkd.api.deps import Actor, MonitorDep, Read, require_ready
from checkd.api.respond import error_responses
from checkd.schemas import utc
from checkd.store.notifications import list_notifications

router = APIRouter(prefix="/api/v2", tags=["notifications"])


@router.get(
    "/notifications",
    response_model=list[NotificationOut],
    summary="Delivery log, newest first",
    responses=error_responses(422),
)
async def notifications(
    read: Read,
    monitor: MonitorDep,
    limit: Annotated[int, Query(ge=1, le=10000, description="how many entries, 1..10000")] = 100,
) -> list[NotificationOut]:
    """Every queued or finished delivery of this host, with its attempts and last error."""
    return [
        NotificationOut(
            id=n.id,
            alert_id=n.alert_id,
            target=n.target,
            event=n.event,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            sent_at=utc(n.sent_at),
        )
        for n in await read(lambda conn: list_notifications(conn=conn, host=monitor.host, limit=limit))
    ]


@router.post(
    "/notify/test",
    response_model=list[NotifyTestOut],
    summary="Send a test alert to every target",
    responses=error_responses(401, 403, 429),
)
async def notify_test(monitor: MonitorDep, _actor: Actor) -> list[NotifyTestOut]:
    """A test alert straight to every target (not queued); each answer within its timeout."""
    require_ready(monitor)
    now = time.time()
    labels = {"alertname": "checkd-test", "host": monitor.host, "severity": "warning"}
    alert = {
        "id": None,
        "rule": "checkd-test",
        "kind": "test",
        "severity": "warning",
        "state": "firing",
        "value": None,
        "summary": "a test notification from checkd",
        "labels": labels,
        "started_at": now,
        "fired_at": now,
        "resolved_at": None,
        "last_notified_at": None,
        "silenced_until": None,
        "gave_up_at": None,
        "host": monitor.host,
    }
    results = await run_in_threadpool(monitor.delivery.test, alert)
    return [
        NotifyTestOut(target=r.target, ok=r.ok, status=r.status, detail=r.detail, duration_ms=r.duration_ms)
        for r in results
    ]
