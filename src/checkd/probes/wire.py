"""A Check as the fleet agent pushes it (one JSON object) and back: stdlib only, both directions here.

The agent encodes with `to_wire`; the collector's ingest route decodes with `from_wire`, which
names the offending field of a malformed check so the answer can say where it is."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from checkd.probes.readings import (
    NET_COUNTERS,
    Check,
    DiskIO,
    DiskIOCounters,
    DiskUsage,
    LoadAverage,
    MemoryUsage,
    NetUsage,
    Rates,
    SwapUsage,
)
from checkd.vocabulary import SERVICE_STATES

HOST_MAX = 255
SEQ_MAX = 2**53 - 1  # byte counts and sequence numbers: what every JSON reader keeps exact
LOAD_MAX = 1_000_000.0  # stored as hundredths in a 32-bit integer
MEMORY_KEYS = ("total", "available", "used", "percent")
_DISK = ("path", "total", "used", "free", "percent")
_LOAD = ("load1", "load5", "load15")
DISK_IO_RATES: tuple[str, ...] = DiskIOCounters._fields
CPU_COUNT_MAX = 65_536
DEVICE_MAX = 64  # an interface or block device name
_CONTROL = re.compile("[\x00-\x1f\x7f]")


class WireError(ValueError):
    """A malformed check: `field` names where (e.g. `memory.total`), the message says why."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


def iso(t: float) -> str:
    """Unix seconds as ISO 8601 UTC with microseconds (`2026-11-30T19:50:00.123456Z`)."""
    # isoformat with microseconds always, then its "+00:00" as "Z": strftime's libc formatting costs more
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def to_wire(check: Check, *, host: str, seq: int) -> dict[str, Any]:
    """The JSON object the agent sends for `check`, the `seq`-th of `host`."""
    m, ld, sw = check.memory, check.load, check.swap
    return {
        "host": host,
        "seq": seq,
        "taken_at": iso(check.taken_at),
        "cpu": check.cpu,
        "memory": None
        if m is None
        else {"total": m.total, "available": m.available, "used": m.used, "percent": m.percent},
        "load": None if ld is None else {"load1": ld.load1, "load5": ld.load5, "load15": ld.load15},
        "disks": [_disk_wire(d) for d in check.disks],
        "services": dict(check.services),
        "swap": None
        if sw is None
        else {"total": sw.total, "used": sw.used, "free": sw.free, "percent": sw.percent},
        "procs": check.procs,
        "cpu_count": check.cpu_count,
        # Rates only: the collector stores rates, and the agent computes them from its counters.
        "net": [{"iface": n.iface, "rates": n.rates} for n in check.net],
        "disk_io": [{"device": d.device, "rates": d.rates} for d in check.disk_io],
    }


def _disk_wire(d: DiskUsage) -> dict[str, Any]:
    return {
        "path": d.path,
        "total": d.total,
        "used": d.used,
        "free": d.free,
        "percent": d.percent,
        "inodes_total": d.inodes_total,
        "inodes_free": d.inodes_free,
    }


def _number(
    value: object, field: str, *, whole: bool = False, percent: bool = False, most: float = SEQ_MAX
) -> float:
    kind = type(value)  # exact types first: this runs ~15 times per pushed check
    rare = (kind is not int and kind is not float) or not math.isfinite(value)  # type: ignore[arg-type]
    if rare and (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)):
        raise WireError(field, "must be a number")
    if whole and kind is not int and not float(value).is_integer():  # type: ignore[arg-type]
        raise WireError(field, "must be an integer")  # 564.0 is an integer to JSON Schema too
    top = 100 if percent else most
    if not 0 <= value <= top:  # type: ignore[operator]
        raise WireError(field, f"out of range (0..{top:g})")
    return value  # type: ignore[return-value]


def _object(value: object, field: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(field, "must be an object")
    for key in keys:
        if key not in value:
            raise WireError(f"{field}.{key}", "missing")
    return value


def _text(value: object, field: str, limit: int) -> str:
    if type(value) is not str or not 1 <= len(value) <= limit:
        if isinstance(value, str) and 1 <= len(value) <= limit:  # a str subclass
            return _text(str(value), field, limit)
        raise WireError(field, f"must be a string of 1..{limit} characters")
    if _CONTROL.search(value):
        raise WireError(field, "must not hold control characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise WireError(field, "must be valid Unicode (no lone surrogates)") from None
    return value


def _taken_at(value: object) -> float:
    if not isinstance(value, str):
        raise WireError("taken_at", "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise WireError("taken_at", "not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def from_wire(obj: object) -> tuple[str, int, Check]:
    """(host, seq, Check) of one pushed object; raises WireError naming the field."""
    if not isinstance(obj, dict):
        raise WireError("check", "must be a JSON object")
    host = _text(obj.get("host"), "host", HOST_MAX)
    seq = int(_number(obj.get("seq"), "seq", whole=True))
    taken_at = _taken_at(obj.get("taken_at"))
    cpu = obj.get("cpu")
    memory = obj.get("memory")
    load = obj.get("load")
    disks = obj.get("disks", [])
    services = obj.get("services", {})
    if not isinstance(disks, list):
        raise WireError("disks", "must be a list")
    if not isinstance(services, dict):
        raise WireError("services", "must be an object")
    swap, procs, cpu_count = obj.get("swap"), obj.get("procs"), obj.get("cpu_count")
    check = Check(
        taken_at=taken_at,
        cpu=None if cpu is None else _number(cpu, "cpu", percent=True),
        memory=None if memory is None else _memory(_object(memory, "memory", MEMORY_KEYS)),
        load=None if load is None else _load(_object(load, "load", _LOAD)),
        disks=[_disk(_object(d, f"disks[{i}]", _DISK), f"disks[{i}]") for i, d in enumerate(disks)],
        services={
            _text(name, "services", 100): _state(state, f"services.{name}")
            for name, state in services.items()
        },
        swap=None if swap is None else _swap(_object(swap, "swap", ("percent",))),
        procs=None if procs is None else int(_number(procs, "procs", whole=True)),
        cpu_count=None
        if cpu_count is None
        else int(_number(cpu_count, "cpu_count", whole=True, most=CPU_COUNT_MAX)),
        net=[
            NetUsage(name, None, rates)
            for name, rates in _devices(obj.get("net", []), "net", "iface", NET_COUNTERS)
        ],
        disk_io=[
            DiskIO(name, None, rates)
            for name, rates in _devices(obj.get("disk_io", []), "disk_io", "device", DISK_IO_RATES)
        ],
    )
    return host, seq, check


def _plain(value: object, top: float) -> bool:
    """A plain int or float in 0..top (NaN and infinities are not): no check needs more; others
    go through _number, which names what is wrong."""
    kind = type(value)
    return (kind is int or kind is float) and 0 <= value <= top  # type: ignore[operator]


def _counts(*values: object) -> bool:
    """Plain ints in 0..SEQ_MAX (byte counts), or not: then _number names the field."""
    return all(type(v) is int and 0 <= v <= SEQ_MAX for v in values)


def _memory(m: dict[str, Any]) -> MemoryUsage:
    total, available, used, percent = m["total"], m["available"], m["used"], m["percent"]
    if _counts(total, available, used) and _plain(percent, 100):
        return MemoryUsage(total=total, available=available, used=used, percent=percent)
    return MemoryUsage(
        total=int(_number(total, "memory.total", whole=True)),
        available=int(_number(available, "memory.available", whole=True)),
        used=int(_number(used, "memory.used", whole=True)),
        percent=_number(percent, "memory.percent", percent=True),
    )


def _load(v: dict[str, Any]) -> LoadAverage:
    values = (v["load1"], v["load5"], v["load15"])
    if all(_plain(x, LOAD_MAX) for x in values):
        return LoadAverage(*values)
    return LoadAverage(*(_number(v[k], f"load.{k}", most=LOAD_MAX) for k in _LOAD))


def _whole_or_none(value: object, field: str) -> int | None:
    return None if value is None else int(_number(value, field, whole=True))


def _disk(d: dict[str, Any], field: str) -> DiskUsage:
    path = _text(d["path"], f"{field}.path", 4096)
    total, used, free, percent = d["total"], d["used"], d["free"], d["percent"]
    inodes_total, inodes_free = d.get("inodes_total"), d.get("inodes_free")
    if (
        _counts(total, used, free)
        and _plain(percent, 100)
        and (inodes_total is None or _counts(inodes_total))
        and (inodes_free is None or _counts(inodes_free))
    ):
        return DiskUsage(path, total, used, free, percent, inodes_total, inodes_free)
    return DiskUsage(
        path=path,
        total=int(_number(total, f"{field}.total", whole=True)),
        used=int(_number(used, f"{field}.used", whole=True)),
        free=int(_number(free, f"{field}.free", whole=True)),
        percent=_number(percent, f"{field}.percent", percent=True),
        inodes_total=_whole_or_none(inodes_total, f"{field}.inodes_total"),
        inodes_free=_whole_or_none(inodes_free, f"{field}.inodes_free"),
    )


def _swap(v: dict[str, Any]) -> SwapUsage:
    return SwapUsage(
        total=_whole_or_none(v.get("total"), "swap.total"),
        used=_whole_or_none(v.get("used"), "swap.used"),
        free=_whole_or_none(v.get("free"), "swap.free"),
        percent=_number(v["percent"], "swap.percent", percent=True),
    )


def _devices(
    value: object, field: str, name_key: str, rate_names: tuple[str, ...]
) -> list[tuple[str, Rates]]:
    """(name, rates) of each entry of a pushed `net` or `disk_io` list; a rate left out is None."""
    if not isinstance(value, list):
        raise WireError(field, "must be a list")
    out: list[tuple[str, Rates]] = []
    for i, entry in enumerate(value):
        where = f"{field}[{i}]"
        item = _object(entry, where, (name_key, "rates"))
        rates = item["rates"]
        if not isinstance(rates, dict):
            raise WireError(f"{where}.rates", "must be an object")
        unknown = sorted(set(rates) - set(rate_names))
        if unknown:
            raise WireError(f"{where}.rates.{unknown[0]}", f"unknown; one of {', '.join(rate_names)}")
        out.append(
            (
                _text(item[name_key], f"{where}.{name_key}", DEVICE_MAX),
                {
                    k: None if rates.get(k) is None else _number(rates[k], f"{where}.rates.{k}")
                    for k in rate_names
                },
            )
        )
    return out


def _state(value: object, field: str) -> str:
    if value not in SERVICE_STATES:
        raise WireError(field, f"must be one of {', '.join(SERVICE_STATES)}")
    return str(value)
