"""Monitor: everything one checkd process runs (engine, services, sampler, upkeep) and its life cycle."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from checkd import store
from checkd.alerts import AlertEngine, compile_rules
from checkd.audited_actions import ServiceActions
from checkd.backlog import WriteBacklog
from checkd.config import Settings
from checkd.control import ActionResult, ServiceRegistry
from checkd.database_file import DatabaseFileGuard
from checkd.db import DatabaseError, make_engine, migrate_in_child
from checkd.endpoints import EndpointRunner, build_checks
from checkd.fleet_alerts import FleetAlerts
from checkd.notify import Delivery, build_targets
from checkd.probes import Check, CheckProbe
from checkd.probes.processes import ProcessTable
from checkd.sampler import Sampler
from checkd.upkeep import Upkeep

log = logging.getLogger(__name__)

_BACKOFF_MAX_S = 30.0
AUDIT_BACKLOG = 10_000  # audit entries kept in memory while the database is unreachable


@dataclass(frozen=True)
class StateChange:
    """What a sampler start/stop/interval call did, and why its new state is not saved yet (or None)."""

    changed: bool
    unsaved: str | None


def _own_url(settings: Settings) -> str:
    """Where this checkd's dashboard is (the generatorURL of its alerts)."""
    return f"http://{settings.server.host}:{settings.server.port}/"


class Monitor:
    """Owns the engine, service registry, sampler and upkeep of one host."""

    def __init__(self, settings: Settings, *, registry: ServiceRegistry | None = None) -> None:
        self.settings = settings
        self.host = settings.host_name
        self.engine: Engine = make_engine(settings.database_url)
        self.registry = registry or ServiceRegistry(settings.services)
        self.endpoints = EndpointRunner(build_checks(settings.probes))
        self.probe = CheckProbe(
            disk_paths=settings.sampler.disk_paths,
            service_states=self.registry.states,
            endpoint_results=self.endpoints.latest,
            net_interfaces=settings.sampler.net_interfaces,
            disk_devices=settings.sampler.disk_devices,
            host_counts=True,
        )
        # /api/v2/processes: cpu percent against the previous reading; its faults are probe faults.
        self.processes = ProcessTable(errors=self.probe.errors)
        self.sampler = Sampler(
            engine=self.engine, host=self.host, probe=self.probe, interval_s=settings.sampler.interval
        )
        self.upkeep = Upkeep(engine=self.engine, host=self.host, retention=settings.retention)
        self.action_listeners: list[Callable[[ActionResult], None]] = []  # called after each action
        self.audit = WriteBacklog(engine=self.engine, what="audit log", capacity=AUDIT_BACKLOG)
        # Saves the sampler's current state; a newer save supersedes one still waiting.
        self.state_saves = WriteBacklog(engine=self.engine, what="sampler state", capacity=1, coalesce=True)
        # SQLite: a database file deleted (or replaced) while we run is noticed at each check.
        self.file_guard = DatabaseFileGuard.of(self.engine, release=self.sampler.release_connection)
        if self.file_guard is not None:
            self.sampler.on_check(self._check_file_before_write)
        self.actions = ServiceActions(
            audit=self.audit, host=self.host, registry=self.registry, listeners=self.action_listeners
        )
        self.delivery = Delivery(
            engine=self.engine,
            host=self.host,
            targets=build_targets(settings.notify.targets, self.registry.runner, _own_url(settings)),
        )
        self.alerts = AlertEngine(
            engine=self.engine,
            host=self.host,
            rules=compile_rules(settings.alerts.rules),
            notify=settings.notify,
            actions=self.actions,
            sampler_running=lambda: self.sampler.running,
            on_queued=self.delivery.wake,
        )
        self.sampler.on_written(self.alerts.submit)
        # The fleet: checks pushed by agents (api/routes/ingest.py), called once they are stored.
        self.fleet_alerts = FleetAlerts(
            engine=self.engine,
            rules=compile_rules(settings.alerts.rules),
            notify=settings.notify,
            actions=self.actions,
            targets=self.delivery.targets,
            local_host=self.host,
        )
        self.ingest_listeners: list[Callable[[list[Check]], None]] = [self.fleet_alerts.submit]
        self.ready = threading.Event()
        self.database_error: str | None = None
        self._closing = threading.Event()
        self._opener: threading.Thread | None = None

    # -- start-up ---------------------------------------------------------------------------------
    def open(self) -> None:
        """Migrate and restore the sampler's state now (blocking; raises DatabaseError)."""
        self.endpoints.start()  # needs no database (a no-op once started)
        if self.file_guard is not None and not self.file_guard.watch.path.exists():
            log.warning("database %s does not exist; creating a new, empty one", self.file_guard.watch.path)
        migrate_in_child(self.engine)
        if self.file_guard is not None:
            self.file_guard.opened()
        self.database_error = None
        with self.engine.connect() as conn:
            # /metrics and the dashboard show the newest stored check until this process takes one.
            newest = store.list_checks(conn=conn, host=self.host, limit=1)
        if newest and self.sampler.latest is None:
            self.sampler.latest = newest[0]
        self.alerts.load()  # before the first check: rules resume where they were
        self.alerts.start()
        self.delivery.start()
        self._restore_sampler()
        self.upkeep.start()
        self.ready.set()

    def open_in_background(self) -> None:
        """Open in a thread, retrying with backoff while the database is unreachable."""
        self._opener = threading.Thread(target=self._open_with_backoff, name="checkd-open", daemon=True)
        self._opener.start()

    def _open_with_backoff(self) -> None:
        delay = 1.0
        while not self._closing.is_set():
            try:
                self.open()
                return
            except DatabaseError as exc:
                self.database_error = str(exc)
                log.error("%s; retrying in %.0fs", exc, delay)
            self._closing.wait(delay)
            delay = min(delay * 2, _BACKOFF_MAX_S)

    def _restore_sampler(self) -> None:
        if self.state_saves.pending:
            # Set through the API while the database was unreachable: that is the newest word.
            log.info("sampler state set while the database was unreachable; saving it instead of restoring")
            self.state_saves.flush()
            return
        with self.engine.begin() as conn:
            saved = store.load_sampler_state(conn=conn, host=self.host)
        running = self.settings.sampler.autostart
        if saved is not None:
            running, saved_interval = saved
            if (
                "interval" not in self.settings.sampler.model_fields_set
                and saved_interval != self.sampler.interval_s
            ):
                # An interval set through the API persists unless the config or a flag names one.
                self.sampler.set_interval(saved_interval)
        if running:
            self.sampler.start()
        else:
            log.info("sampler left stopped, as it was last set")

    def _check_file_before_write(self, _check: Check) -> None:
        self.check_database_file()

    def check_database_file(self) -> str | None:
        """Recreate a SQLite file deleted under us; what /healthz should say about it (or None)."""
        if self.file_guard is None:
            return None
        if self.ready.is_set():
            self.file_guard.check()
        return self.file_guard.note

    # -- control ----------------------------------------------------------------------------------
    def _persist(self, done: str, changed: bool) -> StateChange:
        """Save the state now; if that fails it stays applied, is retried until saved, and we say so."""
        # Captured now: a retry must save what was set, not what close() leaves (a stopped sampler).
        running, interval_s = self.sampler.running, self.sampler.interval_s

        def save(conn: Connection) -> None:
            store.save_sampler_state(conn=conn, host=self.host, running=running, interval_s=interval_s)

        why = self.state_saves.submit(save)
        if why is None:
            return StateChange(changed, None)
        return StateChange(
            changed,
            f"state: {done}, but not saved ({why}); saving is retried until it holds, "
            "and a restart before then restores the previous state",
        )

    def start_sampler(self) -> StateChange:
        """Start sampling and remember it across restarts; `changed` is False when it already ran."""
        started = self.sampler.start()
        return self._persist("started" if started else "already running", started)

    def stop_sampler(self) -> StateChange:
        """Stop sampling and remember it across restarts; `changed` is False when it was not running."""
        stopped = self.sampler.stop()
        return self._persist("stopped" if stopped else "already stopped", stopped)

    def set_interval(self, interval_s: int) -> StateChange:
        """Change the sampling interval and remember it."""
        self.sampler.set_interval(interval_s)
        return self._persist(f"interval set to {interval_s}s", True)

    def ingested(self, checks: list[Check]) -> None:
        """Checks pushed by fleet agents are stored: pass them on to the listeners."""
        for listener in self.ingest_listeners:
            listener(checks)

    # -- shutdown ---------------------------------------------------------------------------------
    def close(self, timeout: float = 10.0) -> None:
        """Stop the sampler (joined, last write flushed), the upkeep and the engine."""
        self._closing.set()
        deadline = time.monotonic() + timeout
        self.sampler.stop(timeout)
        self.endpoints.stop()
        if not self.sampler.close():
            log.error("%d checks could not be written before exit", self.sampler.status().pending_writes)
        self.alerts.stop()
        self.fleet_alerts.stop()
        self.delivery.stop()
        self.upkeep.stop()
        self.state_saves.close()
        self.audit.close()
        if self._opener is not None:
            self._opener.join(max(0.0, deadline - time.monotonic()))
        self.engine.dispose()
