"""Monitor: everything one checkd process runs (engine, services, sampler, upkeep) and its life cycle."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from checkd import store
from checkd.config import Settings
from checkd.control import ActionResult, ServiceRegistry
from checkd.db import DatabaseError, make_engine, migrate_in_child
from checkd.probes import CheckProbe
from checkd.sampler import Sampler
from checkd.upkeep import Upkeep

log = logging.getLogger(__name__)

_BACKOFF_MAX_S = 30.0


class Monitor:
    """Owns the engine, service registry, sampler and upkeep of one host."""

    def __init__(self, settings: Settings, *, registry: ServiceRegistry | None = None) -> None:
        self.settings = settings
        self.host = settings.host_name
        self.engine: Engine = make_engine(settings.database_url)
        self.registry = registry or ServiceRegistry(settings.services)
        self.probe = CheckProbe(disk_paths=settings.sampler.disk_paths, service_states=self.registry.states)
        self.sampler = Sampler(
            engine=self.engine, host=self.host, probe=self.probe, interval_s=settings.sampler.interval
        )
        self.upkeep = Upkeep(engine=self.engine, host=self.host, retention=settings.retention)
        self.action_listeners: list[Callable[[ActionResult], None]] = []  # called after each action
        self.ready = threading.Event()
        self.database_error: str | None = None
        self._closing = threading.Event()
        self._opener: threading.Thread | None = None

    # -- start-up ---------------------------------------------------------------------------------
    def open(self) -> None:
        """Migrate and restore the sampler's state now (blocking; raises DatabaseError)."""
        migrate_in_child(self.engine)
        self.database_error = None
        with self.engine.connect() as conn:
            # /metrics and the dashboard show the newest stored check until this process takes one.
            newest = store.list_checks(conn=conn, host=self.host, limit=1)
        if newest and self.sampler.latest is None:
            self.sampler.latest = newest[0]
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

    # -- control ----------------------------------------------------------------------------------
    def _persist(self) -> None:
        try:
            with self.engine.begin() as conn:
                store.save_sampler_state(
                    conn=conn,
                    host=self.host,
                    running=self.sampler.running,
                    interval_s=self.sampler.interval_s,
                )
        except Exception as exc:  # the change still applies to this process; say it was not saved
            log.error("could not save the sampler state: %s", exc)

    def start_sampler(self) -> bool:
        """Start sampling and remember it across restarts; False when it already ran."""
        started = self.sampler.start()
        self._persist()
        return started

    def stop_sampler(self) -> bool:
        """Stop sampling and remember it across restarts; False when it was not running."""
        stopped = self.sampler.stop()
        self._persist()
        return stopped

    def set_interval(self, interval_s: int) -> None:
        """Change the sampling interval and remember it."""
        self.sampler.set_interval(interval_s)
        self._persist()

    # -- shutdown ---------------------------------------------------------------------------------
    def close(self, timeout: float = 10.0) -> None:
        """Stop the sampler (joined, last write flushed), the upkeep and the engine."""
        self._closing.set()
        deadline = time.monotonic() + timeout
        self.sampler.stop(timeout)
        if not self.sampler.close():
            log.error("%d checks could not be written before exit", self.sampler.status().pending_writes)
        self.upkeep.stop()
        if self._opener is not None:
            self._opener.join(max(0.0, deadline - time.monotonic()))
        self.engine.dispose()
