"""Plain reading types that the probes return and the store persists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    """Virtual memory in bytes, and percent used."""

    total: int
    available: int
    used: int
    percent: float


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """Usage of the filesystem holding `path`, in bytes, and of its inodes (None: not reported)."""

    path: str
    total: int
    used: int
    free: int
    percent: float
    inodes_total: int | None = None
    inodes_free: int | None = None
    stored_inodes_percent: float | None = None  # read back from the store, which keeps only the percent

    @property
    def inodes_percent(self) -> float | None:
        """Inodes used, in percent (None where the filesystem has no inode count, e.g. btrfs)."""
        if not self.inodes_total or self.inodes_free is None:
            return self.stored_inodes_percent
        return round((self.inodes_total - self.inodes_free) / self.inodes_total * 100, 1)


@dataclass(frozen=True, slots=True)
class SwapUsage:
    """Swap space in bytes, and percent used (0 when there is no swap); the sizes are None when
    read back from the store, which keeps only the percent."""

    total: int | None
    used: int | None
    free: int | None
    percent: float


class NetCounters(NamedTuple):
    """One interface's counters since boot (/proc/net/dev): bytes, packets, errors, drops."""

    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_drops: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_drops: int


NET_COUNTERS: tuple[str, ...] = NetCounters._fields  # the counter names, in order


class DiskIOCounters(NamedTuple):
    """One block device's counters since boot (/proc/diskstats): bytes read and written, and the
    milliseconds it spent with I/O in flight (node_exporter's io_time)."""

    read_bytes: int
    write_bytes: int
    busy_ms: int


Rates = dict[str, float | None]  # per second since the previous check, by counter name; None: no rate


@dataclass(frozen=True, slots=True)
class NetUsage:
    """One network interface at a check: its counters and their rates."""

    iface: str
    counters: NetCounters | None  # None when read back from the store, which keeps only the rates
    rates: Rates


@dataclass(frozen=True, slots=True)
class DiskIO:
    """One block device at a check: its counters and their rates."""

    device: str
    counters: DiskIOCounters | None  # None when read back from the store, which keeps only the rates
    rates: Rates

    @property
    def busy_percent(self) -> float | None:
        """Share of the interval the device had I/O in flight (like iostat's %util)."""
        busy = self.rates.get("busy_ms")
        return None if busy is None else round(min(100.0, busy / 10), 1)


@dataclass(frozen=True, slots=True)
class LoadAverage:
    """1, 5 and 15 minute load averages."""

    load1: float
    load5: float
    load15: float


@dataclass(frozen=True, slots=True)
class EndpointResult:
    """The latest result of one endpoint check ([[probes.http]] / [[probes.tcp]]), as of `checked_at`.

    The history metrics `probe_up:<name>` (100/0) and `probe_latency_ms:<name>` come from it."""

    name: str
    kind: str  # "http" or "tcp"
    up: bool
    checked_at: float  # Unix s
    latency_ms: float | None = None  # None when it never answered
    error: str | None = None  # why it is down (or why TLS failed), else None
    status_code: int | None = None  # http only
    cert_expires_at: float | None = None  # https only: the earliest certificate expiry (Unix s)


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
    swap: SwapUsage | None = None
    procs: int | None = None  # processes on the host
    cpu_count: int | None = None  # logical CPUs, for load per core
    net: list[NetUsage] = field(default_factory=list)
    disk_io: list[DiskIO] = field(default_factory=list)
    endpoints: list[EndpointResult] = field(default_factory=list)  # endpoint checks' latest results
