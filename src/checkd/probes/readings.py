"""Plain reading types that the probes return and the store persists."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    """Virtual memory in bytes, and percent used."""

    total: int
    available: int
    used: int
    percent: float


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """Usage of the filesystem holding `path`, in bytes."""

    path: str
    total: int
    used: int
    free: int
    percent: float


@dataclass(frozen=True, slots=True)
class LoadAverage:
    """1, 5 and 15 minute load averages."""

    load1: float
    load5: float
    load15: float


@dataclass(slots=True)
class Check:
    """One sample of a host at one instant; a field is None when its probe failed."""

    taken_at: float
    cpu: float | None
    memory: MemoryUsage | None
    load: LoadAverage | None
    disks: list[DiskUsage] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)
    id: int | None = None
    host: str | None = None
    duration_s: float | None = None  # how long taking the check took (not stored)
