"""Network interfaces and block devices: their counters from /proc, picked by config, with rates.

/proc/net/dev and /proc/diskstats are read with one pread on a descriptor kept open, as the cpu
and memory probes do; psutil is the fallback where /proc cannot be read. "*" picks every device
but loopback and virtual ones (those under /sys/devices/virtual), as node_exporter's defaults
do; a device named explicitly is read even when it is virtual (`lo`)."""

from __future__ import annotations

import functools
import logging
import operator
import os
import sys
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from checkd.probes.counters import CounterRates
from checkd.probes.readings import DiskIO, DiskIOCounters, NetCounters, NetUsage
from checkd.probes.system import ProcFile

log = logging.getLogger(__name__)

ALL = "*"
SECTOR_BYTES = 512  # /proc/diskstats counts 512-byte sectors whatever the device's block size
_LINUX = sys.platform.startswith("linux")
_NET_DEV = ProcFile("/proc/net/dev")
_DISKSTATS = ProcFile("/proc/diskstats")
_READ_SIZE = 1 << 16
_NET_FIELDS = operator.itemgetter(0, 1, 2, 3, 8, 9, 10, 11)  # of /proc/net/dev's 16: NetCounters'

C = TypeVar("C", NetCounters, DiskIOCounters)


def _proc_net(only: Container[str] | None = None) -> dict[str, NetCounters]:
    """Counters of every interface (or those in `only`) from /proc/net/dev (receive: fields 0-3,
    transmit: 8-11)."""
    out: dict[str, NetCounters] = {}
    for line in _NET_DEV.read(_READ_SIZE).decode().splitlines()[2:]:
        name, _, rest = line.partition(":")
        name = name.strip()
        if only is not None and name not in only:
            continue
        out[name] = NetCounters._make(map(int, _NET_FIELDS(rest.split())))
    return out


def _psutil_net(only: Container[str] | None = None) -> dict[str, NetCounters]:
    import psutil  # the fallback path only: the agent does not load psutil on Linux

    return {
        name: NetCounters(
            c.bytes_recv, c.packets_recv, c.errin, c.dropin, c.bytes_sent, c.packets_sent, c.errout, c.dropout
        )
        for name, c in psutil.net_io_counters(pernic=True).items()
    }


def _proc_disks(only: Container[str] | None = None) -> dict[str, DiskIOCounters]:
    """Counters of every block device (or those in `only`) from /proc/diskstats (sectors read:
    field 5, written: 9, ms doing I/O: 12, counting from 0 at the major number)."""
    out: dict[str, DiskIOCounters] = {}
    for line in _DISKSTATS.read(_READ_SIZE).decode().splitlines():
        f = line.split()
        if only is not None and f[2] not in only:
            continue
        out[f[2]] = DiskIOCounters(int(f[5]) * SECTOR_BYTES, int(f[9]) * SECTOR_BYTES, int(f[12]))
    return out


def _psutil_disks(only: Container[str] | None = None) -> dict[str, DiskIOCounters]:
    import psutil  # the fallback path only

    counters = psutil.disk_io_counters(perdisk=True) or {}
    return {name: DiskIOCounters(c.read_bytes, c.write_bytes, c.busy_time) for name, c in counters.items()}


def _with_fallback(
    proc: Callable[[Container[str] | None], dict[str, C]],
    fallback: Callable[[Container[str] | None], dict[str, C]],
    only: Container[str] | None,
) -> dict[str, C]:
    if _LINUX:
        try:
            return proc(only)
        except (OSError, ValueError, IndexError):
            pass
    return fallback(only)


def read_net_counters(only: Container[str] | None = None) -> dict[str, NetCounters]:
    """Every interface's counters, or at least those in `only` (psutil.net_io_counters(pernic=True)'s
    figures)."""
    return _with_fallback(_proc_net, _psutil_net, only)


def read_disk_counters(only: Container[str] | None = None) -> dict[str, DiskIOCounters]:
    """Every block device's counters, or at least those in `only` (psutil.disk_io_counters(perdisk=True)'s
    figures)."""
    return _with_fallback(_proc_disks, _psutil_disks, only)


@functools.lru_cache(maxsize=1024)  # a name does not move between virtual and physical
def is_virtual(kind: str, name: str) -> bool:
    """True for a virtual interface or block device (`kind` "net" or "block"): loopback, bridges,
    tunnels, loop, ram and device-mapper devices live under /sys/devices/virtual."""
    return os.path.exists(f"/sys/devices/virtual/{kind}/{name}")


def whole_disks() -> set[str]:
    """Block devices that are whole disks, not partitions (/sys/block lists only those)."""
    try:
        return set(os.listdir("/sys/block"))
    except OSError:
        return set()


def pick(
    wanted: Sequence[str],
    present: Iterable[str],
    *,
    kind: str,
    candidates: Callable[[], set[str]] | None = None,
) -> list[str]:
    """The devices to read: the named ones, and for "*" every present one that is not virtual."""
    present = set(present)
    chosen = [name for name in wanted if name != ALL]
    if ALL in wanted:
        pool = present & candidates() if candidates is not None else present
        chosen += sorted(n for n in pool if not is_virtual(kind, n) and n not in chosen)
    return chosen


class DeviceProbe(Generic[C]):
    """Reads the picked devices' counters on each check and turns them into rates.

    Named devices missing are warned about once (at start-up, or when first missed) and give no
    reading, so their series stay null; "*" is resolved on every read, so a device plugged in
    later appears."""

    def __init__(
        self,
        wanted: Sequence[str],
        *,
        kind: str,
        read: Callable[[Container[str] | None], Mapping[str, C]],
        candidates: Callable[[], set[str]] | None = None,
    ) -> None:
        self.wanted = list(wanted)
        self.kind = kind
        self._read: Callable[[Container[str] | None], Mapping[str, C]] = read
        # Named devices only: parse just their lines; "*" needs every name.
        self._only: frozenset[str] | None = None if ALL in self.wanted else frozenset(self.wanted)
        self._candidates = candidates
        # "*" resolved for the devices present last time: picked again only when that set changes
        self._picked: tuple[frozenset[str], list[str]] = (frozenset(), [])
        self._rates = CounterRates()
        self._warned: set[str] = set()
        if self.wanted:
            self._prime()

    def _prime(self) -> None:
        """A first read at start-up: a device named but missing is warned about now, and the first
        check has rates (over the time since start-up) instead of a baseline only."""
        try:
            self.read()
        except Exception as exc:  # the checks' own reads count and report a failing probe
            log.warning("%s devices could not be read at start-up: %s", self.kind, exc)

    def read(self) -> list[tuple[str, C, dict[str, float | None]]]:
        """(device, counters, rates by counter name) for each picked device present now."""
        counters = self._read(self._only)
        names = self.wanted if self._only is not None else self._pick(frozenset(counters))
        missing = [n for n in names if n not in counters and n not in self._warned]
        for name in missing:
            log.warning(
                "%s device %r is configured but does not exist; its series stay null", self.kind, name
            )
            self._warned.add(name)
        out = []
        for name in names:
            if name in counters:
                values = counters[name]
                rates = self._rates.update(name, values)
                out.append((name, values, dict(zip(values._fields, rates, strict=True))))
        self._rates.keep_only({name for name, _, _ in out})
        return out

    def _pick(self, present: frozenset[str]) -> list[str]:
        """`pick` for "*", redone only when the devices present are not those of the last read."""
        seen, names = self._picked
        if present != seen:
            names = pick(self.wanted, present, kind=self.kind, candidates=self._candidates)
            self._picked = (present, names)
        return names


def network_probe(interfaces: Sequence[str]) -> Callable[[], list[NetUsage]]:
    """A reader of the configured interfaces ("*": all but loopback and virtual ones)."""
    probe = DeviceProbe(interfaces, kind="net", read=read_net_counters)

    def read() -> list[NetUsage]:
        return [NetUsage(name, counters, rates) for name, counters, rates in probe.read()]

    return read


def disk_io_probe(devices: Sequence[str]) -> Callable[[], list[DiskIO]]:
    """A reader of the configured block devices ("*": whole disks that are not virtual)."""
    probe = DeviceProbe(devices, kind="block", read=read_disk_counters, candidates=whole_disks)

    def read() -> list[DiskIO]:
        return [DiskIO(name, counters, rates) for name, counters, rates in probe.read()]

    return read
