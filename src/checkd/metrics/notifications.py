"""NotificationCounter: checkd_notifications_total{target,outcome}, fed by the delivery's listener."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter

from checkd.notify.delivery import OUTCOMES


class NotificationCounter:
    """Counts delivery attempts per target by outcome (sent, retried, failed); every target starts at 0."""

    def __init__(self, registry: CollectorRegistry, targets: Iterable[str] = ()) -> None:
        self._counter = Counter(
            "checkd_notifications",
            "Notification delivery attempts by target and outcome (sent, retried, failed).",
            labelnames=("target", "outcome"),
            registry=registry,
        )
        for target in targets:
            for outcome in OUTCOMES:
                self._counter.labels(target, outcome)

    def record(self, target: str, outcome: str) -> None:
        """Count one attempt (for Delivery.listeners)."""
        self._counter.labels(target, outcome).inc()
