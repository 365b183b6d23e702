"""NodeDevicesCollector: node_exporter's network, disk I/O, inode, swap and process series from the
newest check, held in memory, so node_exporter's Grafana dashboards work against checkd."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from checkd.probes import Check

# node_exporter's netdev names (counters, `_total` added on exposition) by NetCounters field.
_NET = {
    "rx_bytes": ("node_network_receive_bytes", "Network device statistic receive_bytes."),
    "tx_bytes": ("node_network_transmit_bytes", "Network device statistic transmit_bytes."),
    "rx_packets": ("node_network_receive_packets", "Network device statistic receive_packets."),
    "tx_packets": ("node_network_transmit_packets", "Network device statistic transmit_packets."),
    "rx_errors": ("node_network_receive_errs", "Network device statistic receive_errs."),
    "tx_errors": ("node_network_transmit_errs", "Network device statistic transmit_errs."),
    "rx_drops": ("node_network_receive_drop", "Network device statistic receive_drop."),
    "tx_drops": ("node_network_transmit_drop", "Network device statistic transmit_drop."),
}


class NodeDevicesCollector:
    """Counters of each configured interface and block device, inodes of each disk path, swap sizes,
    load5/15 and the process count, as node_exporter names them."""

    def __init__(self, latest: Callable[[], Check | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        """The families of the newest check; nothing while no check was taken yet."""
        check = self._latest()
        if check is None:
            return
        yield from _network(check)
        yield from _disk_io(check)
        files = GaugeMetricFamily(
            "node_filesystem_files", "Filesystem total file nodes.", labels=["mountpoint"]
        )
        free = GaugeMetricFamily(
            "node_filesystem_files_free", "Filesystem total free file nodes.", labels=["mountpoint"]
        )
        for disk in check.disks:
            if disk.inodes_total is not None and disk.inodes_free is not None:
                files.add_metric([disk.path], disk.inodes_total)
                free.add_metric([disk.path], disk.inodes_free)
        yield files
        yield free
        swap = check.swap
        if swap is not None and swap.total is not None and swap.free is not None:
            yield GaugeMetricFamily(
                "node_memory_SwapTotal_bytes", "Memory information field SwapTotal_bytes.", value=swap.total
            )
            yield GaugeMetricFamily(
                "node_memory_SwapFree_bytes", "Memory information field SwapFree_bytes.", value=swap.free
            )
        if check.load is not None:
            yield GaugeMetricFamily("node_load5", "5m load average.", value=check.load.load5)
            yield GaugeMetricFamily("node_load15", "15m load average.", value=check.load.load15)
        if check.procs is not None:
            yield GaugeMetricFamily("node_processes_pids", "Number of PIDs", value=check.procs)


def _network(check: Check) -> Iterator[Metric]:
    families = {
        field: CounterMetricFamily(name, doc, labels=["device"]) for field, (name, doc) in _NET.items()
    }
    for net in check.net:
        if net.counters is None:
            continue
        for field, value in zip(net.counters._fields, net.counters, strict=True):
            families[field].add_metric([net.iface], value)
    yield from families.values()


def _disk_io(check: Check) -> Iterator[Metric]:
    read = CounterMetricFamily(
        "node_disk_read_bytes", "The total number of bytes read successfully.", labels=["device"]
    )
    written = CounterMetricFamily(
        "node_disk_written_bytes", "The total number of bytes written successfully.", labels=["device"]
    )
    busy = CounterMetricFamily(
        "node_disk_io_time_seconds", "Total seconds spent doing I/Os.", labels=["device"]
    )
    for io in check.disk_io:
        if io.counters is None:
            continue
        read.add_metric([io.device], io.counters.read_bytes)
        written.add_metric([io.device], io.counters.write_bytes)
        busy.add_metric([io.device], io.counters.busy_ms / 1000)
    yield read
    yield written
    yield busy
