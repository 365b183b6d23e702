"""The notification outbox: queued deliveries per target, their attempts and the delivery log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from checkd.models import hosts, notifications
from checkd.store import dims


@dataclass(frozen=True)
class NotificationRow:
    """One queued or finished delivery of one event to one target."""

    id: int
    alert_id: int | None
    target: str
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: float
    next_attempt_at: float
    sent_at: float | None


def _row(r: Any) -> NotificationRow:
    values = {k: r[k] for k in NotificationRow.__dataclass_fields__ if k != "payload"}
    return NotificationRow(**values, payload=json.loads(r["payload"]))


def enqueue(
    *,
    conn: Connection,
    host: str,
    alert_id: int | None,
    targets: list[str],
    event: str,
    payload: dict[str, Any],
    now: float,
) -> None:
    """Queue `event` of one alert for each of `targets` (caller commits, with the alert's change)."""
    if not targets:
        return
    hid = dims.host_id(conn=conn, name=host)
    body = json.dumps(payload, sort_keys=True)
    rows = [
        {
            "host_id": hid,
            "alert_id": alert_id,
            "target": t,
            "event": event,
            "payload": body,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for t in targets
    ]
    conn.execute(insert(notifications), rows)


def record(
    *,
    conn: Connection,
    host: str,
    target: str,
    event: str,
    payload: dict[str, Any],
    ok: bool,
    error: str | None,
    now: float,
) -> None:
    """Log a delivery made directly (a test notification), as one finished row."""
    hid = dims.host_id(conn=conn, name=host)
    conn.execute(
        insert(notifications).values(
            host_id=hid,
            alert_id=None,
            target=target,
            event=event,
            payload=json.dumps(payload, sort_keys=True),
            status="sent" if ok else "failed",
            attempts=1,
            last_error=error,
            created_at=now,
            next_attempt_at=now,
            sent_at=now if ok else None,
        )
    )


def queue_head(*, conn: Connection, host: str, target: str) -> NotificationRow | None:
    """The oldest pending delivery to `target`: a target's events go out in the order they were queued."""
    hid = dims.host_id(conn=conn, name=host, create=False)  # a read never creates the host
    if hid is None:
        return None
    q = (
        select(notifications)
        .where(
            notifications.c.host_id == hid,
            notifications.c.status == "pending",
            notifications.c.target == target,
        )
        .order_by(notifications.c.id)
        .limit(1)
    )
    found = conn.execute(q).mappings().first()
    return None if found is None else _row(found)


def record_attempt(
    *, conn: Connection, row_id: int, status: str, error: str | None, now: float, next_attempt_at: float
) -> None:
    """Count one attempt: `status` sent, pending (retry at `next_attempt_at`) or failed (caller commits)."""
    values: dict[str, Any] = {
        "status": status,
        "attempts": notifications.c.attempts + 1,
        "last_error": error,
        "next_attempt_at": next_attempt_at,
    }
    if status == "sent":
        values["sent_at"] = now
    conn.execute(update(notifications).where(notifications.c.id == row_id).values(values))


def list_notifications(
    *, conn: Connection, host: str | None = None, limit: int = 100
) -> list[NotificationRow]:
    """The delivery log, newest first, of `host` (or every host)."""
    q = select(notifications).join(hosts, hosts.c.id == notifications.c.host_id)
    if host is not None:
        q = q.where(hosts.c.name == host)
    q = q.order_by(notifications.c.id.desc()).limit(limit)
    return [_row(r) for r in conn.execute(q).mappings()]


def prune_notifications(*, conn: Connection, host: str, before: float) -> int:
    """Delete `host`'s finished deliveries (sent or failed) queued before `before` (caller commits)."""
    hid = dims.host_id(conn=conn, name=host, create=False)
    if hid is None:
        return 0
    done = conn.execute(
        delete(notifications).where(
            notifications.c.host_id == hid,
            notifications.c.status != "pending",
            notifications.c.created_at < before,
        )
    )
    return int(done.rowcount)
