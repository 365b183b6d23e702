"""HostCollector: node_exporter-named gauges from the sampler's newest check, held in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric

from checkd.probes import Check
from checkd.vocabulary import SERVICE_STATES


class HostCollector:
    """Memory, filesystem, load, cpu and unit-state gauges of the newest check taken by this process."""

    def __init__(self, latest: Callable[[], Check | None], units: Mapping[str, str]) -> None:
        self._latest = latest
        self._units = dict(units)  # service name -> unit name (node_systemd_unit_state's `name`)

    def collect(self) -> Iterator[Metric]:
        """The families of the newest check; nothing while no check was taken yet."""
        check = self._latest()
        if check is None:
            return
        if check.memory is not None:
            yield _gauge("node_memory_MemTotal_bytes", "Memory total in bytes.", check.memory.total)
            yield _gauge(
                "node_memory_MemAvailable_bytes", "Memory available in bytes.", check.memory.available
            )
        size = GaugeMetricFamily(
            "node_filesystem_size_bytes", "Filesystem size in bytes.", labels=["mountpoint"]
        )
        avail = GaugeMetricFamily(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            labels=["mountpoint"],
        )
        for disk in check.disks:
            size.add_metric([disk.path], disk.total)
            avail.add_metric([disk.path], disk.free)
        yield size
        yield avail
        if check.load is not None:
            yield _gauge("node_load1", "1m load average.", check.load.load1)
        if check.cpu is not None:
            yield _gauge("checkd_cpu_percent", "CPU busy percent at the newest check.", check.cpu)
        yield self._unit_states(check)

    def _unit_states(self, check: Check) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "node_systemd_unit_state",
            "Service state at the newest check: 1 for its state, 0 for every other state.",
            labels=["name", "service", "state"],
        )
        for service, state in check.services.items():
            unit = self._units.get(service, service)
            for candidate in SERVICE_STATES:
                family.add_metric([unit, service, candidate], 1.0 if state == candidate else 0.0)
        return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)
