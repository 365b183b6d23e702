"""take_check: one Check from every probe; a failing probe leaves its field None and is counted."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from checkd.probes import readings
from checkd.probes.devices import disk_io_probe, network_probe
from checkd.probes.system import CpuPercent, ProcessCount, read_disk, read_load, read_memory, read_swap

log = logging.getLogger(__name__)

T = TypeVar("T")
ServiceStates = Callable[[], Mapping[str, str]]


# A probe failing on this many checks in a row is "failing" (/healthz degraded), not a blip.
FAILING_AFTER_CHECKS = 3


@dataclass(frozen=True)
class ProbeFailure:
    """A probe that failed on every check since `since` (Unix s): `checks` of them, the last with `error`."""

    probe: str
    since: float
    checks: int
    error: str


@dataclass
class ProbeErrors:
    """Per-probe failure counts, the most recent failure message, and the probes failing right now."""

    counts: dict[str, int] = field(default_factory=dict)
    last: str | None = None
    streaks: dict[str, ProbeFailure] = field(default_factory=dict)  # probe -> its current run of failures

    def record(self, probe: str, exc: BaseException, at: float = 0.0) -> None:
        """Count one failure of `probe` (in the check taken at `at`) and remember it."""
        self.counts[probe] = self.counts.get(probe, 0) + 1
        self.last = f"{probe}: {type(exc).__name__}: {exc}"
        run = self.streaks.get(probe)
        self.streaks[probe] = ProbeFailure(
            probe, at if run is None else run.since, 1 if run is None else run.checks + 1, self.last
        )
        if run is None:  # once per run of failures, not on every check
            log.warning("probe %s failed: %s", probe, exc)
        elif run.checks + 1 == FAILING_AFTER_CHECKS:
            log.error("probe %s has failed on %d checks in a row: %s", probe, run.checks + 1, exc)

    def record_ok(self, probe: str) -> None:
        """`probe` read fine: its run of failures, if any, ends."""
        run = self.streaks.pop(probe, None)
        if run is not None:
            log.warning("probe %s works again after %d failing checks", probe, run.checks)

    def failing(self) -> list[ProbeFailure]:
        """Probes that failed on at least FAILING_AFTER_CHECKS checks in a row, up to now."""
        runs = list(self.streaks.values())  # one C-level copy: the sampler thread may be updating it
        return sorted((r for r in runs if r.checks >= FAILING_AFTER_CHECKS), key=lambda r: r.probe)

    @property
    def total(self) -> int:
        """All probe failures so far."""
        return sum(list(self.counts.values()))  # one C-level copy: a request thread may be adding a probe


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
        host_counts: bool = False,
        clock: Callable[[], float] = time.time,
        endpoint_results: Callable[[], list[readings.EndpointResult]] | None = None,
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
        # Swap, process count and CPU count: read only where they are kept (issue 12 stores them).
        self._host_counts = host_counts
        # The endpoint checks' latest results: a snapshot their runner keeps; reading it never waits.
        self._endpoint_results = endpoint_results
        self._procs = ProcessCount()

    def _guard(self, probe: str, read: Callable[[], T], at: float) -> T | None:
        try:
            value = read()
        except Exception as exc:  # a probe may fail in any way; the rest of the check goes on
            self.errors.record(probe, exc, at)
            return None
        if self.errors.streaks:  # only a probe that was failing has a run to end
            self.errors.record_ok(probe)
        return value

    def take_check(self) -> readings.Check:
        """Read every probe now and return the Check."""
        taken_at = self.clock()
        started = time.perf_counter()
        cpu = self._guard("cpu", self._cpu.read, taken_at)
        memory: readings.MemoryUsage | None = self._guard("memory", read_memory, taken_at)
        load: readings.LoadAverage | None = self._guard("load", read_load, taken_at)
        disks: list[readings.DiskUsage] = []
        for path in self.disk_paths:
            disk = self._guard(f"disk:{path}", partial(read_disk, path), taken_at)
            if disk is not None:
                disks.append(disk)
        net: list[readings.NetUsage] | None = (
            self._guard("net", self._net, taken_at) if self._devices[0] else []
        )
        disk_io: list[readings.DiskIO] | None = (
            self._guard("disk_io", self._disk_io, taken_at) if self._devices[1] else []
        )
        services: dict[str, str] = {}
        if self.service_states is not None:
            states = self._guard("services", self.service_states, taken_at)
            if states is not None:
                services = {name: str(getattr(s, "value", s)) for name, s in states.items()}
        return readings.Check(
            taken_at=taken_at,
            cpu=cpu,
            memory=memory,
            load=load,
            disks=disks,
            services=services,
            swap=self._guard("swap", read_swap, taken_at) if self._host_counts else None,
            procs=self._guard("procs", self._procs.read, taken_at) if self._host_counts else None,
            cpu_count=self._cpu_count if self._host_counts else None,
            net=net or [],
            disk_io=disk_io or [],
            endpoints=self._endpoint_results() if self._endpoint_results is not None else [],
            duration_s=time.perf_counter() - started,
        )
