"""What control reads of one configured service: config's ServiceSettings, or the agent's own."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ServiceSpec(Protocol):
    """One `[services.NAME]` section as control reads it (read-only)."""

    @property
    def unit(self) -> str | None:
        """The init-system unit (None: the service's own name, or none for commands)."""

    @property
    def control(self) -> bool:
        """Whether actions are allowed."""

    @property
    def backend(self) -> str:
        """auto, systemd, sysv or command."""

    @property
    def pidfile(self) -> Path | None:
        """The service's pidfile, if any."""

    @property
    def match(self) -> str | None:
        """A command-line pattern finding the service's process, if any."""

    @property
    def start(self) -> list[str] | None:
        """The start argv, if configured."""

    @property
    def stop(self) -> list[str] | None:
        """The stop argv, if configured."""

    @property
    def restart(self) -> list[str] | None:
        """The restart argv, if configured."""

    @property
    def status(self) -> list[str] | None:
        """The status argv, if configured."""

    @property
    def timeout(self) -> float:
        """Seconds an action may take."""
