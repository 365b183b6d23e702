"""What every backend offers the registry, and the helpers they share."""

from __future__ import annotations

import logging
from typing import Protocol

from checkd.control._spec import ServiceSpec
from checkd.vocabulary import ACTIONS, Action, ServiceState

log = logging.getLogger("checkd.control")
__all__ = ["ACTIONS", "Action", "Backend", "ServiceState"]
STATUS_TIMEOUT_S = 5.0  # cap for a status command run while reading states


class Backend(Protocol):
    """One configured service as seen by its backend: how to act on it and how to read its state."""

    kind: str

    @property
    def unit(self) -> str | None:
        """The init-system unit controlled; None for a command-backed service that names none."""
        ...

    def action_argvs(self, action: Action) -> list[list[str]]:
        """The argv lists to run, in order, for `action`; empty when nothing is configured."""
        ...

    def state(self) -> ServiceState:
        """The current state, read as cheaply as the backend allows."""
        ...


def safe_state(backend: Backend) -> ServiceState:
    """The backend's state, or UNKNOWN (logged) when reading it fails: a probe must never break a check."""
    try:
        return backend.state()
    except Exception:
        log.exception("reading the state of %s failed", backend.unit)
        return ServiceState.UNKNOWN


def configured_argv(settings: ServiceSpec, action: Action) -> list[str] | None:
    """The argv configured for `action` in the service settings, if any."""
    argv: list[str] | None = getattr(settings, action)
    return list(argv) if argv else None


def status_timeout(settings: ServiceSpec) -> float:
    """How long a status command may run: the service timeout, capped at STATUS_TIMEOUT_S."""
    return min(settings.timeout, STATUS_TIMEOUT_S)
