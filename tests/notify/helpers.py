"""Builders for notification tests: alert snapshots, target settings, queueing and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from checkd.config_alerts import NotifyTargetSettings
from checkd.notify import Delivery
from checkd.store.notifications import enqueue, list_notifications

HOST = "testhost"
OWN_URL = "http://127.0.0.1:8080/"


def alert(n: int = 0, state: str = "firing") -> dict[str, Any]:
    """An alert snapshot as the evaluator queues it."""
    return {
        "id": 7 + n,
        "rule": "cpu-busy",
        "kind": "threshold",
        "severity": "warning",
        "state": state,
        "value": 95.5 + n,
        "summary": f"cpu_percent is {95.5 + n}",
        "labels": {"alertname": "cpu-busy", "host": HOST, "severity": "warning"},
        "started_at": 1_800_000_000.0,
        "fired_at": 1_800_000_005.0,
        "resolved_at": 1_800_000_100.0 if state == "resolved" else None,
        "last_notified_at": None,
        "silenced_until": None,
        "gave_up_at": None,
        "host": HOST,
    }


def target(**kw: Any) -> NotifyTargetSettings:
    """Target settings as the config would give them."""
    return NotifyTargetSettings.model_validate(kw)


def queue_events(
    engine: Engine, delivery: Delivery, events: list[tuple[str, dict[str, Any]]], targets: list[str]
) -> None:
    """Queue (event, alert) pairs for `targets` as the evaluator does, then wake the delivery."""
    with engine.begin() as conn:
        for event, snapshot in events:
            enqueue(
                conn=conn,
                host=HOST,
                alert_id=snapshot["id"],
                targets=targets,
                event=event,
                payload=snapshot,
                now=time.time(),
            )
    delivery.wake()


def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `probe()` until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return value


def log_of(engine: Engine, name: str) -> list[Any]:
    """The delivery log of target `name`, oldest first."""
    with engine.connect() as conn:
        return [n for n in reversed(list_notifications(conn=conn, host=HOST, limit=1000)) if n.target == name]
