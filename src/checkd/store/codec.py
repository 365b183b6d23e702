"""Conversions between Check readings and the scaled integer columns they are stored in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checkd.models import KIB, LOAD_SCALE, PCT_SCALE
from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage

# Service states as small integers; inactive and active are 0 and 1, which SQLite stores in 0 bytes.
STATES = ("inactive", "active", "failed", "activating", "deactivating", "unknown", "not-found")
STATE_CODE = {name: code for code, name in enumerate(STATES)}


def pct(value: float | None) -> int | None:
    """Percent to hundredths."""
    return None if value is None else round(value * PCT_SCALE)


def unpct(value: int | None) -> float | None:
    """Hundredths to percent."""
    return None if value is None else value / PCT_SCALE


def kib(value: int) -> int:
    """Bytes to KiB (memory comes from /proc/meminfo in kB, so this is exact there)."""
    return value // KIB


def check_row(check: Check, host_id: int) -> dict[str, Any]:
    """The `checks` row for `check`."""
    mem, load = check.memory, check.load
    return {
        "host_id": host_id,
        "taken_at": int(check.taken_at),
        "cpu_pct": pct(check.cpu),
        "load1": None if load is None else round(load.load1 * LOAD_SCALE),
        "load5": None if load is None else round(load.load5 * LOAD_SCALE),
        "load15": None if load is None else round(load.load15 * LOAD_SCALE),
        "mem_total_kib": None if mem is None else kib(mem.total),
        "mem_available_kib": None if mem is None else kib(mem.available),
        "mem_used_kib": None if mem is None else kib(mem.used),
        "mem_pct": None if mem is None else pct(mem.percent),
    }


def disk_row(check_id: int, path_id: int, disk: DiskUsage) -> dict[str, Any]:
    """The `check_disks` row for one disk of a check."""
    return {
        "check_id": check_id,
        "path_id": path_id,
        "total_kib": kib(disk.total),
        "used_kib": kib(disk.used),
        "free_kib": kib(disk.free),
        "pct": pct(disk.percent),
    }


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
