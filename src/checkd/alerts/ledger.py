"""Writes an alert's change and the notifications it causes in one transaction (at-least-once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine

from checkd.config_alerts import NotifyTargetSettings
from checkd.store.alerts import AlertRow, delete_alert, insert_alert, update_alert
from checkd.store.notifications import enqueue

EVENTS = ("firing", "resolved", "gave-up", "repeat", "refresh", "test")


class Ledger:
    """Persists alerts and queues their notifications for the right targets."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        targets: Sequence[NotifyTargetSettings],
        send_resolved: bool,
        on_queued: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.host = host
        self.all_targets = [t.name for t in targets]
        self.am_targets = [t.name for t in targets if t.type == "alertmanager"]
        self.send_resolved = send_resolved
        self.on_queued = on_queued

    def targets_for(self, event: str) -> list[str]:
        """Which targets an event goes to: Alertmanager always hears of a resolve and of refreshes."""
        if event == "refresh":
            return self.am_targets
        if event == "resolved" and not self.send_resolved:
            return self.am_targets
        return self.all_targets

    def save(self, alert: AlertRow, *, event: str | None = None, now: float = 0.0) -> AlertRow:
        """Insert or update `alert`, queueing `event` for its targets; returns the stored copy."""
        if event is not None and event != "refresh":
            alert = dataclasses.replace(alert, last_notified_at=now)
        with self.engine.begin() as conn:
            if alert.id is None:
                alert = dataclasses.replace(alert)
                insert_alert(conn=conn, host=self.host, row=alert)
            else:
                update_alert(conn=conn, row=alert)
            if event is not None:
                self._enqueue(conn, alert, event, now)
        if event is not None and self.targets_for(event):
            self.on_queued()
        return alert

    def refresh(self, alerts: Sequence[AlertRow], now: float) -> None:
        """Queue a re-send of firing alerts to Alertmanager targets, so they do not expire there."""
        if not self.am_targets or not alerts:
            return
        with self.engine.begin() as conn:
            for alert in alerts:
                self._enqueue(conn, alert, "refresh", now)
        self.on_queued()

    def drop(self, alert: AlertRow) -> None:
        """Forget a pending alert that never fired."""
        if alert.id is not None:
            with self.engine.begin() as conn:
                delete_alert(conn=conn, alert_id=alert.id)

    def _enqueue(self, conn: Connection, alert: AlertRow, event: str, now: float) -> None:
        enqueue(
            conn=conn,
            host=self.host,
            alert_id=alert.id,
            targets=self.targets_for(event),
            event=event,
            payload=alert.snapshot(),
            now=now,
        )
