"""Alert rules for the fleet hosts a collector ingests: one AlertEngine per host, made on its first push.

An engine takes its host's active alerts from SQL when it is made, and again when the host's
pushes come back after a pause (its agent may have pushed to another collector meanwhile), so
neither a restart nor a move between collectors duplicates an alert. Remediation restarts are
not run for fleet hosts: the rules are evaluated with `restart` off."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Engine

from checkd.alerts import AlertEngine, Rule
from checkd.audited_actions import ServiceActions
from checkd.config_alerts import NotifySettings
from checkd.notify import Delivery
from checkd.notify.targets import Target
from checkd.probes import Check

log = logging.getLogger(__name__)

RELOAD_AFTER_S = 30.0  # a host silent this long on this collector is reloaded from SQL first


class FleetAlerts:
    """The engines of the hosts this collector ingests."""

    def __init__(
        self,
        *,
        engine: Engine,
        rules: Sequence[Rule],
        notify: NotifySettings,
        actions: ServiceActions,
        targets: Sequence[Target],
        local_host: str,
    ) -> None:
        self.engine = engine
        self.local_host = local_host  # evaluated by the Monitor's own engine, not here
        self.rules = [dataclasses.replace(r, restart=False) for r in rules]
        self.notify = notify
        self.actions = actions
        self.targets = list(targets)
        self._engines: dict[str, AlertEngine] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._last_push: dict[str, float] = {}
        self._lock = threading.Lock()

    def submit(self, checks: list[Check]) -> None:
        """Queue stored checks of fleet hosts for their host's engine (never blocks the request)."""
        if not self.rules:
            return
        for check in checks:
            if check.host is not None and check.host != self.local_host:
                self._engine(check.host).submit(check)

    def _engine(self, host: str) -> AlertEngine:
        now = time.monotonic()
        with self._lock:
            found = self._engines.get(host)
            paused = now - self._last_push.get(host, now) > RELOAD_AFTER_S
            self._last_push[host] = now
            if found is None:
                # The outbox is read per host: each fleet host's notifications have their own worker.
                delivery = self._deliveries[host] = Delivery(
                    engine=self.engine, host=host, targets=self.targets
                )
                delivery.start()
                found = self._engines[host] = AlertEngine(
                    engine=self.engine,
                    host=host,
                    rules=self.rules,
                    notify=self.notify,
                    actions=self.actions,
                    sampler_running=lambda: True,  # an agent samples while it pushes
                    on_queued=delivery.wake,
                )
                found.load()
                found.start()
            elif paused:
                found.load()
            return found

    def engines(self) -> dict[str, AlertEngine]:
        """The engine of each host ingested so far."""
        with self._lock:
            return dict(self._engines)

    def stop(self) -> None:
        """Stop every engine and its delivery."""
        for engine in self.engines().values():
            engine.stop()
        with self._lock:
            deliveries = list(self._deliveries.values())
        for delivery in deliveries:
            delivery.stop()
