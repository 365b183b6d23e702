"""checkd posts to a real Alertmanager (Debian's) as Prometheus does; it lists and resolves the alert."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine

from checkd.notify import Delivery
from notify.alertmanager import Alertmanager
from notify.helpers import HOST, alert, eventually, queue_events, target


def test_alertmanager_lists_checkds_alert_and_sees_it_resolved(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], alertmanager: Alertmanager
) -> None:
    delivery = deliveries(target(name="am", type="alertmanager", url=alertmanager.url))
    firing = {**alert(), "fired_at": time.time() - 5}
    queue_events(sqlite_engine, delivery, [("firing", firing)], ["am"])
    (listed,) = eventually(alertmanager.alerts)
    assert listed["labels"] == {"alertname": "cpu-busy", "host": HOST, "severity": "warning"}
    assert listed["status"]["state"] == "active"
    assert listed["annotations"]["summary"] == "cpu_percent is 95.5"
    resolved = {**firing, "state": "resolved", "resolved_at": time.time() - 1}
    queue_events(sqlite_engine, delivery, [("resolved", resolved)], ["am"])
    eventually(lambda: alertmanager.alerts(active="true") == [])
