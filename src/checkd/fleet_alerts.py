"""Alert rules for the fleet hosts a collector ingests: one AlertEngine per host, made on its first push.

An engine takes its host's active alerts from SQL when it is made, and again when the host's
pushes come back after a pause (its agent may have pushed to another collector meanwhile), so
neither a restart nor a move between collectors duplicates an alert. Where several collectors
share the database (PostgreSQL), a host's rules and notifications run only on the collector
holding its claim (fleet_claims.py); that one reads the host's checks from SQL in the order they
were stored, those pushed to other collectors too. Remediation restarts are not run for fleet
hosts: the rules are evaluated with `restart` off."""

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
from checkd.fleet_claims import HostClaims
from checkd.notify import Delivery
from checkd.notify.targets import Target
from checkd.probes import Check
from checkd.store.backends import backend_for
from checkd.store.checks import checks_after

log = logging.getLogger(__name__)

RELOAD_AFTER_S = 30.0  # a host silent this long on this collector is reloaded from SQL first
SWEEP_S = 5.0  # a claimed host's checks pushed to other collectors are read this often
READ_BATCH = 500  # checks read from SQL per host per round (the engine's queue holds 1000)


class FleetAlerts:
    """The engines of the hosts this collector ingests (of those it holds the claim of, if shared)."""

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
        # Shared database: claims, the id of each claimed host's last check read, and the hosts
        # pushed here since the last round (with the id of their oldest new check).
        self.claims = HostClaims(engine) if backend_for(engine).shared else None
        self._read_up_to: dict[str, int] = {}
        self._pushed: dict[str, int] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors_total = 0
        self.last_error: str | None = None

    def submit(self, checks: list[Check]) -> None:
        """Queue stored checks of fleet hosts for their host's engine (never blocks the request)."""
        if not self.rules:
            return
        fleet = [c for c in checks if c.host is not None and c.host != self.local_host]
        if self.claims is None:
            for check in fleet:
                assert check.host is not None
                self._engine(check.host).submit(check)
            return
        with self._lock:
            for check in fleet:
                assert check.host is not None and check.id is not None
                self._pushed[check.host] = min(self._pushed.get(check.host, check.id), check.id)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="checkd-fleet-alerts", daemon=True)
                self._thread.start()
        self._wake.set()

    def _make(self, host: str) -> AlertEngine:
        # The outbox is read per host: each fleet host's notifications have their own worker.
        delivery = self._deliveries[host] = Delivery(engine=self.engine, host=host, targets=self.targets)
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
        return found

    def _engine(self, host: str) -> AlertEngine:
        now = time.monotonic()
        with self._lock:
            found = self._engines.get(host)
            paused = now - self._last_push.get(host, now) > RELOAD_AFTER_S
            self._last_push[host] = now
            if found is None:
                found = self._make(host)
            elif paused:
                found.load()
            return found

    # -- a shared database: claimed hosts, read from SQL --------------------------------------------
    def _run(self) -> None:
        swept = 0.0
        while not self._stop.is_set():
            self._wake.wait(SWEEP_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            now = time.monotonic()
            try:
                self._round(sweep=now - swept >= SWEEP_S)
            except Exception as exc:  # a database fault: counted and shown; the next round retries
                self._fault(f"{type(exc).__name__}: {exc}".splitlines()[0])
            if now - swept >= SWEEP_S:
                swept = now

    def _round(self, *, sweep: bool) -> None:
        """Claim the hosts pushed here that no collector holds; read the new checks of the claimed
        hosts pushed here (of every claimed host, when `sweep`) and evaluate them."""
        assert self.claims is not None
        with self._lock:
            pushed, self._pushed = self._pushed, {}
        if not self.claims.alive():
            self._fault("the database session holding the hosts' claims was lost")
            self._release_all()
        for host, first in pushed.items():
            if host not in self._read_up_to and self.claims.take(host):
                log.info("evaluating alert rules of fleet host %s here", host)
                with self._lock:
                    self._make(host)
                self._read_up_to[host] = first - 1
        for host in list(self._read_up_to) if sweep else [h for h in pushed if h in self._read_up_to]:
            self._read(host)

    def _read(self, host: str) -> None:
        with self.engine.connect() as conn:
            items = checks_after(conn=conn, host=host, after_id=self._read_up_to[host], limit=READ_BATCH)
        engine = self._engines[host]
        for check in items:
            engine.submit(check)
        if items:
            assert items[-1].id is not None
            self._read_up_to[host] = items[-1].id
        if len(items) == READ_BATCH:  # more wait: the next round goes on
            with self._lock:
                self._pushed.setdefault(host, self._read_up_to[host] + 1)
            self._wake.set()

    def _fault(self, why: str) -> None:
        self.record_fault(f"fleet alerts: {why}")

    def record_fault(self, why: str) -> None:
        """Count and log a fleet fault (this one's, or the agents' wake-ups'): /api/v2/sampler shows them."""
        with self._lock:
            self.errors_total += 1
            self.last_error = why
        log.error("%s", why)

    def _release_all(self) -> None:
        """The claims are gone: stop evaluating and notifying (another collector may claim them)."""
        for engine in self.engines().values():
            engine.stop()
        with self._lock:
            deliveries = list(self._deliveries.values())
            self._engines.clear()
            self._deliveries.clear()
        for delivery in deliveries:
            delivery.stop()
        self._read_up_to.clear()

    def engines(self) -> dict[str, AlertEngine]:
        """The engine of each host ingested (claimed) so far."""
        with self._lock:
            return dict(self._engines)

    def stop(self) -> None:
        """Stop every engine and its delivery, and give the claims back."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        for engine in self.engines().values():
            engine.stop()
        with self._lock:
            deliveries = list(self._deliveries.values())
        for delivery in deliveries:
            delivery.stop()
        if self.claims is not None:
            self.claims.close()
