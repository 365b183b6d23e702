"""The allow-list of configured services: lookup, backend choice, cheap states and locked actions."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checkd.control._action import perform
from checkd.control._base import ACTIONS, Action, Backend, safe_state
from checkd.control._command import CommandService
from checkd.control._detect import detect_init_system, resolve_unit
from checkd.control._model import ActionInProgress, ActionResult, NotControllable, ServiceInfo, UnknownService
from checkd.control._runner import CommandRunner
from checkd.control._spec import ServiceSpec
from checkd.control._systemd import SystemdService, systemd_states
from checkd.control._sysv import SysvService
from checkd.vocabulary import ServiceState, service_name_ok

INIT_SYSTEMS = ("systemd", "sysv")


def choose_backend(settings: ServiceSpec, init_system: str) -> str:
    """The configured backend; on "auto": "command" when commands or a match are set, else the init system."""
    if settings.backend != "auto":
        return settings.backend
    if settings.start or settings.stop or settings.restart or settings.status or settings.match:
        return "command"
    return init_system


def _make_backend(kind: str, name: str, settings: ServiceSpec, runner: CommandRunner, root: Path) -> Backend:
    if kind == "command":
        # The commands are what is controlled, not an init-system unit: show only a configured one.
        return CommandService(settings.unit, settings, runner)
    unit = resolve_unit(name, settings.unit, root)
    if kind == "systemd":
        return SystemdService(unit, settings, runner)
    return SysvService(unit, settings, runner, root)


@dataclass
class _Entry:
    info: ServiceInfo
    settings: ServiceSpec
    backend: Backend
    lock: threading.Lock = field(default_factory=threading.Lock)


class ServiceRegistry:
    """Configured services, their backends, states and verified actions (one at a time per service)."""

    def __init__(
        self,
        services: Mapping[str, ServiceSpec],
        *,
        init_system: str | None = None,
        runner: CommandRunner | None = None,
        root: Path = Path("/"),
    ) -> None:
        self.init_system = init_system or detect_init_system()
        if self.init_system not in INIT_SYSTEMS:
            raise ValueError(f"init_system: {self.init_system!r} is not one of {', '.join(INIT_SYSTEMS)}")
        self.runner = runner or CommandRunner()
        self._entries: dict[str, _Entry] = {}
        for name, settings in services.items():
            if not service_name_ok(name):
                raise ValueError(f"services: {name!r} is not a valid service name")
            kind = choose_backend(settings, self.init_system)
            backend = _make_backend(kind, name, settings, self.runner, root)
            info = ServiceInfo(name, backend.unit, settings.control, kind)
            self._entries[name] = _Entry(info, settings, backend)

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name) if isinstance(name, str) and service_name_ok(name) else None
        if entry is None:
            shown = name[:60] + "…" if isinstance(name, str) and len(name) > 60 else name
            raise UnknownService(f"unknown service {shown!r}")
        return entry

    def infos(self) -> list[ServiceInfo]:
        """Every configured service, in config order."""
        return [entry.info for entry in self._entries.values()]

    def info(self, name: str) -> ServiceInfo:
        """One configured service; raises UnknownService (also for invalid names) without running anything."""
        return self._entry(name).info

    def states(self) -> dict[str, ServiceState]:
        """Every service's state: pidfile reads for sysv/command, one batched `systemctl show` for systemd."""
        systemd = {n: e.backend for n, e in self._entries.items() if isinstance(e.backend, SystemdService)}
        batched = systemd_states(self.runner, [b.unit for b in systemd.values()]) if systemd else {}
        return {
            name: batched[systemd[name].unit] if name in systemd else safe_state(entry.backend)
            for name, entry in self._entries.items()
        }

    def state(self, name: str) -> ServiceState:
        """One service's state; raises UnknownService."""
        return safe_state(self._entry(name).backend)

    def act(self, name: str, action: Action) -> ActionResult:
        """Run and verify `action` (blocking); raises UnknownService, NotControllable or ActionInProgress."""
        entry = self._entry(name)
        if action not in ACTIONS:
            raise ValueError(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
        if not entry.info.control:
            raise NotControllable(f"service {name!r} is not controllable (control = false)")
        if not entry.lock.acquire(blocking=False):
            raise ActionInProgress(f"another action on {name!r} is running")
        try:
            return perform(name, action, entry.backend, entry.settings.timeout, self.runner)
        finally:
            entry.lock.release()
