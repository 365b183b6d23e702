"""The value types and errors of checkd.control's public surface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checkd.vocabulary import ServiceState


class UnknownService(LookupError):
    """No configured service has that name (or the name is not a valid service name); the API answers 404."""


class NotControllable(PermissionError):
    """The service is configured with `control = false`; the API answers 403."""


class ActionInProgress(RuntimeError):
    """Another action on the same service is running; the API answers 409."""


@dataclass(frozen=True)
class ServiceInfo:
    """A configured service: its name, the unit it controls (None: commands only), control, backend."""

    name: str
    unit: str | None
    control: bool
    backend: str  # "systemd" | "sysv" | "command"


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one start/stop/restart, verified against the service state afterwards."""

    service: str
    action: str
    ok: bool
    state: ServiceState
    exit_code: int | None
    output: str
    duration_ms: int
    at: datetime  # UTC, when the action started
    status: int  # 200 ok; 502 command failed, state did not follow or binary missing; 504 timed out
    message: str  # one human-readable line
