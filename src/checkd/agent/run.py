"""`checkd agent`: sample this host on the sampler's schedule and push the checks to collectors.

Imports the standard library, psutil and checkd's stdlib-only modules (probes, cadence, control
for actions) only: no FastAPI, SQLAlchemy, pydantic or uvicorn, so it stays small. Control and
the TOML reader are loaded only with --config (without it no service is watched or controlled)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from checkd.agent.actions import ActionLoop
from checkd.agent.backlog import Backlog
from checkd.agent.collector import Collectors, Refused, Unreachable
from checkd.agent.options import AgentOptions, fail
from checkd.cadence import next_slot
from checkd.probes import CheckProbe
from checkd.probes.devices import ALL
from checkd.probes.wire import to_wire

if TYPE_CHECKING:
    from checkd.control import ServiceRegistry

log = logging.getLogger("checkd.agent")

BATCH = 500  # checks per push: a spool drains at this many per round trip
_BACKOFF_MIN_S, _BACKOFF_MAX_S = 1.0, 10.0
DRAIN_AT_EXIT_S = 5.0  # on SIGTERM, pushing what waits may take this long; the rest stays spooled


class Agent:
    """The sampling loop (the caller's thread) and the pusher thread, sharing one Backlog."""

    def __init__(
        self,
        options: AgentOptions,
        *,
        probe: CheckProbe,
        collectors: Collectors,
        actions: ActionLoop | None = None,
    ) -> None:
        self.options = options
        self.actions = actions
        self.probe = probe
        self.collectors = collectors
        self.backlog = Backlog(options.spool_dir, options.spool_max)
        self.seq = self.backlog.next_seq()
        self.stopping = threading.Event()
        self._queued = threading.Event()
        self.checks_total = 0
        self.missed_slots_total = 0
        self.pushed_total = 0
        self.duplicates_total = 0
        self.rejected_total = 0
        self.push_errors_total = 0
        self.pushes_total = 0  # batches a collector accepted
        self.last_error: str | None = None
        self.started_at = time.time()
        self._drain_until = float("inf")  # once stopping: push what waits until then

    # -- sampling ---------------------------------------------------------------------------------
    def sample_once(self) -> None:
        """Take one check, number it and queue it."""
        check = self.probe.take_check()
        self.seq += 1
        body = json.dumps(to_wire(check, host=self.options.host, seq=self.seq), separators=(",", ":"))
        self.backlog.add((self.seq, body.encode()))
        self.checks_total += 1
        if not self._queued.is_set():  # set() takes the Condition's lock and notifies every time
            self._queued.set()

    def sample_loop(self) -> None:
        """One check per slot of the interval until stopped (the sampler's drift-free cadence)."""
        slot = time.monotonic()
        while not self.stopping.is_set():
            try:
                self.sample_once()
            except Exception:  # never let the loop die: log it and keep the cadence
                log.exception("check failed")
            slot, skipped = next_slot(slot, time.monotonic(), self.options.interval)
            self.missed_slots_total += skipped
            self.stopping.wait(max(0.0, slot - time.monotonic()))

    # -- pushing ----------------------------------------------------------------------------------
    def push_loop(self) -> None:
        """Push the oldest waiting checks; while no collector answers, spool them and back off."""
        backoff = _BACKOFF_MIN_S
        while True:
            batch = self.backlog.take(BATCH)
            if self.stopping.is_set() and (not batch or time.monotonic() > self._drain_until):
                return  # stopping: what is left stays in the spool
            if not batch:
                self._queued.wait(1.0)
                self._queued.clear()
                continue
            if self.push(batch):
                backoff = _BACKOFF_MIN_S
                if len(batch) < BATCH:  # caught up: the next checks go together, push_every later
                    self.stopping.wait(self.options.push_every)
                continue
            self.backlog.spill()
            self.backlog.save_seq(self.seq + 1)
            if self.stopping.is_set():
                return
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, _BACKOFF_MAX_S)

    def push(self, batch: list[tuple[int, bytes]]) -> bool:
        """Send one batch; True when it is done with (accepted, or refused for good and dropped)."""
        try:
            answer = self.collectors.push([body for _, body in batch])
        except Unreachable as exc:
            self._failed(f"collector unreachable: {exc}")
            return False
        except Refused as exc:
            if exc.status in (413, 422):  # this batch can never be stored: drop it, say so, go on
                self.rejected_total += len(batch)
                log.error("collector refused %d checks for good: %s", len(batch), exc)
                self.backlog.ack(batch[-1][0])
                return True
            self._failed(f"collector refused the batch: {exc}")  # 401/403: a token to fix; keep all
            return False
        self.backlog.ack(batch[-1][0])
        self.pushes_total += 1
        self.pushed_total += int(answer.get("accepted", 0))
        self.duplicates_total += int(answer.get("duplicates", 0))
        if self.last_error is not None:
            log.warning("pushing works again (%d checks waiting)", sum(self.backlog.waiting()))
            self.last_error = None
        return True

    def _failed(self, why: str) -> None:
        self.push_errors_total += 1
        if self.last_error is None:
            log.error("%s; checks are kept (spool: %s)", why, self.options.spool_dir or "memory only")
        self.last_error = why

    # -- status -----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counters for the status file."""
        memory, spooled = self.backlog.waiting()
        return {
            "host": self.options.host,
            "started_at": self.started_at,
            "next_seq": self.seq + 1,
            "checks_total": self.checks_total,
            "missed_slots_total": self.missed_slots_total,
            "pushed_total": self.pushed_total,
            "duplicates_total": self.duplicates_total,
            "rejected_total": self.rejected_total,
            "push_errors_total": self.push_errors_total,
            "pushes_total": self.pushes_total,
            "connections_total": self.collectors.connections_total,
            "resent_total": self.collectors.resent_total,
            "dropped_total": self.backlog.dropped_total,
            "waiting_in_memory": memory,
            "waiting_in_spool": spooled,
            "last_error": self.last_error,
            "spool_error": self.backlog.spool_error,
            "probe_errors_total": self.probe.errors.total,
            "actions_total": 0 if self.actions is None else self.actions.actions_total,
        }

    def write_status(self) -> None:
        """Write the status, and the modules this process imported, to the status file."""
        path = self.options.status_file
        if path is None:
            return
        # Loaded modules only: a name blocked with None (ssl, for an http-only agent) is not one.
        data = self.status() | {"modules": sorted(n for n, m in list(sys.modules.items()) if m is not None)}
        try:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(path)
        except OSError as exc:
            log.error("status file %s: %s", path, exc)

    def run(self) -> None:
        """Sample and push until SIGTERM/SIGINT; then keep what was not pushed in the spool."""
        pusher = threading.Thread(target=self.push_loop, name="checkd-agent-push", daemon=True)
        pusher.start()
        if self.actions is not None:
            # Not joined at exit: a long poll may hold it; an action it runs has its own timeout.
            threading.Thread(target=self.actions.run, name="checkd-agent-actions", daemon=True).start()
        try:
            self.sample_loop()
        finally:
            self._drain_until = time.monotonic() + DRAIN_AT_EXIT_S
            self.stopping.set()
            if self.actions is not None:
                self.actions.stopping.set()
            self._queued.set()
            pusher.join(DRAIN_AT_EXIT_S + self.collectors.timeout)
            self.backlog.save_seq(self.seq + 1)
            self.backlog.close()
            self.write_status()
            log.info("stopped; %d checks left waiting", sum(self.backlog.waiting()))


def run(options: AgentOptions) -> None:
    """Run the agent with `options` until SIGTERM/SIGINT."""
    net_interfaces, disk_devices = [ALL], [ALL]
    registry: ServiceRegistry | None = None
    if options.config:
        from checkd.agent.services import ServicesError, load_devices, load_services
        from checkd.control import ServiceRegistry

        try:
            registry = ServiceRegistry(load_services(options.config))
            net_interfaces, disk_devices = load_devices(options.config)
        except (ServicesError, ValueError) as exc:
            fail(f"--config: {exc}")
    probe = CheckProbe(
        disk_paths=options.disk_paths,
        service_states=registry.states if registry is not None else None,
        net_interfaces=net_interfaces,
        disk_devices=disk_devices,
        host_counts=True,
    )
    collectors = Collectors(options.collectors, options.token)
    actions = ActionLoop(collectors, options.host, registry, threading.Event())
    agent = Agent(options, probe=probe, collectors=collectors, actions=actions)

    def stop(_sig: int, _frame: FrameType | None) -> None:
        agent.stopping.set()

    def dump(_sig: int, _frame: FrameType | None) -> None:
        agent.write_status()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, dump)
    agent.write_status()  # says the handlers are in place (before, SIGUSR1 would end the process)
    log.info(
        "agent for host %s: every %ss to %s, spool %s",
        options.host,
        options.interval,
        ", ".join(options.collectors),
        options.spool_dir or "none",
    )
    agent.run()
