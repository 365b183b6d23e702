"""take_check: one Check from every probe; a failing probe leaves its field None and is counted."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from checkd.probes.readings import Check, DiskUsage, LoadAverage, MemoryUsage
from checkd.probes.system import CpuPercent, read_disk, read_load, read_memory

log = logging.getLogger(__name__)

T = TypeVar("T")
ServiceStates = Callable[[], Mapping[str, str]]


@dataclass
class ProbeErrors:
    """Per-probe failure counts and the most recent failure message."""

    counts: dict[str, int] = field(default_factory=dict)
    last: str | None = None

    def record(self, probe: str, exc: BaseException) -> None:
        """Count one failure of `probe` and remember it."""
        self.counts[probe] = self.counts.get(probe, 0) + 1
        self.last = f"{probe}: {type(exc).__name__}: {exc}"
        log.warning("probe %s failed: %s", probe, exc)

    @property
    def total(self) -> int:
        """All probe failures so far."""
        return sum(self.counts.values())


class CheckProbe:
    """Takes checks: cpu, memory, load, each configured disk path and each service's state."""

    def __init__(
        self,
        *,
        disk_paths: Sequence[str],
        service_states: ServiceStates | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.disk_paths = list(disk_paths)
        self.service_states = service_states
        self.clock = clock
        self.errors = ProbeErrors()
        self._cpu = CpuPercent()

    def _guard(self, probe: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except Exception as exc:  # a probe may fail in any way; the rest of the check goes on
            self.errors.record(probe, exc)
            return None

    def take_check(self) -> Check:
        """Read every probe now and return the Check."""
        taken_at = self.clock()
        started = time.perf_counter()
        cpu = self._guard("cpu", self._cpu.read)
        memory: MemoryUsage | None = self._guard("memory", read_memory)
        load: LoadAverage | None = self._guard("load", read_load)
        disks: list[DiskUsage] = []
        for path in self.disk_paths:
            disk = self._guard(f"disk:{path}", partial(read_disk, path))
            if disk is not None:
                disks.append(disk)
        services: dict[str, str] = {}
        if self.service_states is not None:
            states = self._guard("services", self.service_states)
            if states is not None:
                services = {name: str(getattr(s, "value", s)) for name, s in states.items()}
        return Check(
            taken_at=taken_at,
            cpu=cpu,
            memory=memory,
            load=load,
            disks=disks,
            services=services,
            duration_s=time.perf_counter() - started,
        )
