"""take_check: one Check from every probe; a failing probe leaves its field None and is counted."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from checkd.probes.devices import disk_io_probe, network_probe
from checkd.probes.readings import Check, DiskIO, DiskUsage, LoadAverage, MemoryUsage, NetUsage
from checkd.probes.system import CpuPercent, count_processes, read_disk, read_load, read_memory, read_swap

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
    """Takes checks: cpu, memory, swap, load, processes, each configured disk path, network
    interface and block device, and each service's state."""

    def __init__(
        self,
        *,
        disk_paths: Sequence[str],
        service_states: ServiceStates | None = None,
        net_interfaces: Sequence[str] = (),
        disk_devices: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.disk_paths = list(disk_paths)
        self.service_states = service_states
        self.clock = clock
        self.errors = ProbeErrors()
        self._cpu = CpuPercent()
        self._cpu_count = os.cpu_count()
        self._net = network_probe(net_interfaces)
        self._disk_io = disk_io_probe(disk_devices)
        self._devices = bool(net_interfaces), bool(disk_devices)

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
        net: list[NetUsage] | None = self._guard("net", self._net) if self._devices[0] else []
        disk_io: list[DiskIO] | None = self._guard("disk_io", self._disk_io) if self._devices[1] else []
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
            swap=self._guard("swap", read_swap),
            procs=self._guard("procs", count_processes),
            cpu_count=self._cpu_count,
            net=net or [],
            disk_io=disk_io or [],
            duration_s=time.perf_counter() - started,
        )
