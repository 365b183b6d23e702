"""The keys of one `[services.NAME]` section, a plain dataclass (config validates it; the agent reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceFields:
    """One watched service and how to control it (control reads it as a ServiceSpec)."""

    unit: str | None = None
    control: bool = True
    backend: str = "auto"  # auto, systemd, sysv or command
    pidfile: Path | None = None
    match: str | None = None
    start: list[str] | None = None
    stop: list[str] | None = None
    restart: list[str] | None = None
    status: list[str] | None = None
    timeout: float = 30.0
