"""Conversions between Check readings and the scaled integer columns they are stored in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checkd.models import KIB, LOAD_SCALE, PCT_SCALE, PERMILLE
from checkd.probes import readings
from checkd.probes.readings import NET_COUNTERS
from checkd.vocabulary import ServiceState

# Service states as small integers, by position; inactive and active are 0 and 1, which SQLite
# stores in 0 bytes. Append only: the codes are in every stored row.
STATES: tuple[ServiceState, ...] = (
    ServiceState.INACTIVE,
    ServiceState.ACTIVE,
    ServiceState.FAILED,
    ServiceState.ACTIVATING,
    ServiceState.DEACTIVATING,
    ServiceState.UNKNOWN,
    ServiceState.NOT_FOUND,
)
assert set(STATES) == set(ServiceState), "every service state needs a stored code"
STATE_CODE: dict[str, int] = {state.value: code for code, state in enumerate(STATES)}


def state_code(state: str) -> int:
    """The stored code of a service state (an unknown word is stored as "unknown")."""
    return STATE_CODE.get(state, STATE_CODE["unknown"])


def pct(value: float | None) -> int | None:
    """Percent to hundredths."""
    return None if value is None else round(value * PCT_SCALE)


def permille(value: float | None) -> int | None:
    """Percent to tenths (for readings of 0.1 resolution)."""
    return None if value is None else round(value * PERMILLE)


def unpct(value: int | None) -> float | None:
    """Hundredths to percent."""
    return None if value is None else value / PCT_SCALE


def kib(value: int) -> int:
    """Bytes to KiB (memory comes from /proc/meminfo in kB, so this is exact there)."""
    return value // KIB


# The order of check_values(); the `checks` columns after id and host_id.
CHECK_COLUMNS = (
    "taken_at",
    "cpu_pct",
    "load1",
    "load5",
    "load15",
    "mem_total_kib",
    "mem_available_kib",
    "mem_used_kib",
    "mem_pct",
    "swap_permille",
    "procs",
    "cpu_count",
)
# The order of disk_values(); the `check_disks` columns after check_id and path_id.
DISK_COLUMNS = ("total_kib", "used_kib", "free_kib", "pct", "inodes_permille")
# The order of net_values(), net_fault_values(), disk_io_values(), probe_values(): the columns
# after the two keys. Bytes and packets per second as integers; errors and drops per second in
# hundredths, in their own table and only where one is not 0 (almost never: no row, no bytes).
NET_COLUMNS = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")
NET_FAULT_COLUMNS = ("rx_errors", "tx_errors", "rx_drops", "tx_drops")
assert {*NET_COLUMNS, *NET_FAULT_COLUMNS} == set(NET_COUNTERS), "an interface counter has no column"
DISK_IO_COLUMNS = ("read_bytes", "write_bytes", "busy_permille")
PROBE_COLUMNS = ("up", "kind", "latency_us")
# Endpoint check kinds as small integers (append only: the codes are in stored rows).
PROBE_KINDS = ("http", "tcp")


def check_values(check: readings.Check) -> tuple[int | None, ...]:
    """The stored values of `check`, in CHECK_COLUMNS order (a tuple: this is the write hot path)."""
    mem, load, swap = check.memory, check.load, check.swap
    return (
        int(check.taken_at),
        pct(check.cpu),
        *((None, None, None) if load is None else (round(load.load1 * LOAD_SCALE),
                                                   round(load.load5 * LOAD_SCALE),
                                                   round(load.load15 * LOAD_SCALE))),
        *((None, None, None, None) if mem is None else (kib(mem.total), kib(mem.available),
                                                        kib(mem.used), pct(mem.percent))),
        None if swap is None else permille(swap.percent),
        check.procs,
        check.cpu_count,
    )  # fmt: skip


def disk_values(disk: readings.DiskUsage) -> tuple[int | None, ...]:
    """The stored values of one disk reading, in DISK_COLUMNS order."""
    return (kib(disk.total), kib(disk.used), kib(disk.free), pct(disk.percent), permille(disk.inodes_percent))


def _scaled(value: float | None, scale: int) -> int | None:
    return None if value is None else round(value * scale)


def net_values(net: readings.NetUsage) -> tuple[int | None, ...]:
    """The stored byte and packet rates of one interface, in NET_COLUMNS order."""
    rates = net.rates
    return tuple(_scaled(rates.get(n), 1) for n in NET_COLUMNS)


def net_fault_values(net: readings.NetUsage) -> tuple[int | None, ...] | None:
    """The stored error and drop rates of one interface, in NET_FAULT_COLUMNS order; None when
    all are 0 (then no row is stored, and 0 is read back)."""
    values = tuple(_scaled(net.rates.get(n), PCT_SCALE) for n in NET_FAULT_COLUMNS)
    return None if values == (0, 0, 0, 0) else values


def disk_io_values(io: readings.DiskIO) -> tuple[int | None, ...]:
    """The stored rates of one block device, in DISK_IO_COLUMNS order."""
    rates = io.rates
    return (
        _scaled(rates.get("read_bytes"), 1),
        _scaled(rates.get("write_bytes"), 1),
        permille(io.busy_percent),
    )


def probe_values(result: readings.EndpointResult) -> tuple[int | None, ...]:
    """The stored result of one endpoint check, in PROBE_COLUMNS order."""
    kind = PROBE_KINDS.index(result.kind) if result.kind in PROBE_KINDS else len(PROBE_KINDS)
    return (1 if result.up else 0, kind, _scaled(result.latency_ms, 1000))


def check_from_row(row: Mapping[Any, Any], host: str) -> readings.Check:
    """A Check (without disks and services) from a `checks` row."""
    memory = None
    if row["mem_total_kib"] is not None:
        memory = readings.MemoryUsage(
            total=row["mem_total_kib"] * KIB,
            available=row["mem_available_kib"] * KIB,
            used=row["mem_used_kib"] * KIB,
            percent=row["mem_pct"] / PCT_SCALE,
        )
    load = None
    if row["load1"] is not None:
        load = readings.LoadAverage(
            row["load1"] / LOAD_SCALE, row["load5"] / LOAD_SCALE, row["load15"] / LOAD_SCALE
        )
    swap_permille = row["swap_permille"]
    swap = None if swap_permille is None else readings.SwapUsage(None, None, None, swap_permille / PERMILLE)
    return readings.Check(
        id=row["id"],
        host=host,
        taken_at=float(row["taken_at"]),
        cpu=unpct(row["cpu_pct"]),
        memory=memory,
        load=load,
        swap=swap,
        procs=row["procs"],
        cpu_count=row["cpu_count"],
    )


def disk_from_row(row: Mapping[Any, Any]) -> readings.DiskUsage:
    """A DiskUsage from a joined `check_disks`/`disk_paths` row (inodes as a percent only)."""
    return readings.DiskUsage(
        path=row["path"],
        total=row["total_kib"] * KIB,
        used=row["used_kib"] * KIB,
        free=row["free_kib"] * KIB,
        percent=row["pct"] / PCT_SCALE,
        stored_inodes_percent=None if row["inodes_permille"] is None else row["inodes_permille"] / PERMILLE,
    )


def net_from_row(row: Mapping[Any, Any], faults: Mapping[Any, Any] | None) -> readings.NetUsage:
    """A NetUsage (rates only: counters are not stored) from a joined `check_net` row and its
    `check_net_faults` row (None: there is none, so errors and drops were 0)."""
    rates: dict[str, float | None] = {n: row[n] for n in NET_COLUMNS}
    for n in NET_FAULT_COLUMNS:
        rates[n] = 0.0 if faults is None else unpct(faults[n])
    return readings.NetUsage(row["name"], None, rates)


def disk_io_from_row(row: Mapping[Any, Any]) -> readings.DiskIO:
    """A DiskIO (rates only) from a joined `check_disk_io` row."""
    busy = row["busy_permille"]
    # busy_percent = busy_ms per second / 10, so busy_ms per second = the busy permille.
    rates = {"read_bytes": row["read_bytes"], "write_bytes": row["write_bytes"],
             "busy_ms": None if busy is None else float(busy)}  # fmt: skip
    return readings.DiskIO(row["name"], None, rates)


def probe_from_row(row: Mapping[Any, Any], taken_at: float) -> readings.EndpointResult:
    """An EndpointResult as of the check taken at `taken_at`, from a joined `check_probes` row."""
    kind = row["kind"]
    latency = row["latency_us"]
    return readings.EndpointResult(
        name=row["name"],
        kind=PROBE_KINDS[kind] if kind < len(PROBE_KINDS) else "unknown",
        up=bool(row["up"]),
        checked_at=taken_at,
        latency_ms=None if latency is None else latency / 1000,
    )
