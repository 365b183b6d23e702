"""Where each history metric's value is stored: its table, column and scale, and for a metric of
many series (a disk path, a service, a device, an endpoint check) the dimension naming each.

The fold (rollups.py) and the raw-check series (history.py) both read values through this table,
so a metric is stored, folded and charted the same way."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Table

from checkd.models import (
    LOAD_SCALE,
    PCT_SCALE,
    PERMILLE,
    check_disk_io,
    check_disks,
    check_net,
    check_probes,
    check_services,
    checks,
    device_names,
    disk_paths,
    probe_names,
    service_names,
)
from checkd.store.codec import STATE_CODE

_ACTIVE = STATE_CODE["active"]


@dataclass(frozen=True)
class Source:
    """A metric's stored column: value = column / scale (`equals`: 100 when column == equals, else 0)."""

    table: Table
    column: str
    scale: float = 1.0
    dim: Table | None = None  # the dimension table of a metric of many series
    dim_key: str | None = None  # the column of `table` holding its id
    equals: int | None = None  # a state column: 100 when it equals this code, else 0

    @property
    def col(self) -> Column[int]:
        """The stored column."""
        return self.table.c[self.column]

    def value(self, stored: int | None) -> float | None:
        """The metric's value from a stored column value."""
        if stored is None:
            return None
        if self.equals is not None:
            return 100.0 if stored == self.equals else 0.0
        return stored / self.scale


def _of_device(table: Table, column: str, scale: float = 1.0) -> Source:
    return Source(table, column, scale, device_names, "device_id")


# load1_per_core is load1 / cpu_count, two columns: the fold and the raw series compute it.
SOURCES: dict[str, Source] = {
    "cpu_percent": Source(checks, "cpu_pct", PCT_SCALE),
    "mem_percent": Source(checks, "mem_pct", PCT_SCALE),
    "load1": Source(checks, "load1", LOAD_SCALE),
    "swap_percent": Source(checks, "swap_permille", PERMILLE),
    "procs_total": Source(checks, "procs"),
    "disk_percent": Source(check_disks, "pct", PCT_SCALE, disk_paths, "path_id"),
    "inodes_percent": Source(check_disks, "inodes_permille", PERMILLE, disk_paths, "path_id"),
    "availability": Source(check_services, "state", 1, service_names, "service_id", equals=_ACTIVE),
    "net_rx_bytes": _of_device(check_net, "rx_bytes"),
    "net_tx_bytes": _of_device(check_net, "tx_bytes"),
    "disk_read_bytes": _of_device(check_disk_io, "read_bytes"),
    "disk_write_bytes": _of_device(check_disk_io, "write_bytes"),
    "disk_busy_percent": _of_device(check_disk_io, "busy_permille", PERMILLE),
    "probe_up": Source(check_probes, "up", 1, probe_names, "probe_id", equals=1),
    "probe_latency_ms": Source(check_probes, "latency_us", 1000, probe_names, "probe_id"),
}
PER_CORE = "load1_per_core"
LOAD_PER_CORE_SOURCE = (SOURCES["load1"], checks.c.cpu_count)


def child_metrics(table: Table) -> dict[str, Source]:
    """The metrics stored in per-check table `table`, by name."""
    return {name: s for name, s in SOURCES.items() if s.table is table}
