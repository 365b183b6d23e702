"""Conversions between Check readings and the scaled integer columns they are stored in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checkd.models import KIB, LOAD_SCALE, PCT_SCALE
from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage
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
)
# The order of disk_values(); the `check_disks` columns after check_id and path_id.
DISK_COLUMNS = ("total_kib", "used_kib", "free_kib", "pct")


def check_values(check: Check) -> tuple[int | None, ...]:
    """The stored values of `check`, in CHECK_COLUMNS order (a tuple: this is the write hot path)."""
    mem, load = check.memory, check.load
    return (
        int(check.taken_at),
        pct(check.cpu),
        *((None, None, None) if load is None else (round(load.load1 * LOAD_SCALE),
                                                   round(load.load5 * LOAD_SCALE),
                                                   round(load.load15 * LOAD_SCALE))),
        *((None, None, None, None) if mem is None else (kib(mem.total), kib(mem.available),
                                                        kib(mem.used), pct(mem.percent))),
    )  # fmt: skip


def disk_values(disk: DiskUsage) -> tuple[int | None, ...]:
    """The stored values of one disk reading, in DISK_COLUMNS order."""
    return (kib(disk.total), kib(disk.used), kib(disk.free), pct(disk.percent))


def check_from_row(row: Mapping[Any, Any], host: str) -> Check:
    """A Check (without disks and services) from a `checks` row."""
    memory = None
    if row["mem_total_kib"] is not None:
        memory = MemoryUsage(
            total=row["mem_total_kib"] * KIB,
            available=row["mem_available_kib"] * KIB,
            used=row["mem_used_kib"] * KIB,
            percent=row["mem_pct"] / PCT_SCALE,
        )
    load = None
    if row["load1"] is not None:
        load = LoadAverage(row["load1"] / LOAD_SCALE, row["load5"] / LOAD_SCALE, row["load15"] / LOAD_SCALE)
    return Check(
        id=row["id"],
        host=host,
        taken_at=float(row["taken_at"]),
        cpu=unpct(row["cpu_pct"]),
        memory=memory,
        load=load,
    )


def disk_from_row(row: Mapping[Any, Any]) -> DiskUsage:
    """A DiskUsage from a joined `check_disks`/`disk_paths` row."""
    return DiskUsage(
        path=row["path"],
        total=row["total_kib"] * KIB,
        used=row["used_kib"] * KIB,
        free=row["free_kib"] * KIB,
        percent=row["pct"] / PCT_SCALE,
    )
