"""ActionCounter: checkd_service_actions_total{service,action,ok}, fed by the action listener."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter

from checkd.control import ActionResult
from checkd.vocabulary import ACTIONS


class ActionCounter:
    """Counts service actions this process ran; every controllable service starts at zero."""

    def __init__(self, registry: CollectorRegistry, services: Iterable[str] = ()) -> None:
        self._counter = Counter(
            "checkd_service_actions",
            "Service actions run by this process, by outcome (ok = state followed).",
            labelnames=("service", "action", "ok"),
            registry=registry,
        )
        for service in services:
            for action in ACTIONS:
                for ok in ("true", "false"):
                    self._counter.labels(service, action, ok)

    def record(self, result: ActionResult) -> None:
        """Count one finished action (for Monitor.action_listeners)."""
        self._counter.labels(result.service, result.action, "true" if result.ok else "false").inc()
