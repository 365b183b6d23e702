"""A check as the agent pushes it and back: exact round trip, and errors naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage
from checkd.probes.readings import NET_COUNTERS, DiskIO, DiskIOCounters, NetCounters, NetUsage, SwapUsage
from checkd.probes.wire import WireError, from_wire, to_wire


def _check() -> Check:
    return Check(
        taken_at=1_796_000_000.123456,
        cpu=3.5,
        memory=MemoryUsage(total=1000, available=600, used=400, percent=40.0),
        load=LoadAverage(0.1, 0.2, 0.3),
        disks=[DiskUsage(path="/", total=10, used=4, free=6, percent=40.0)],
        services={"web": "active", "db": "not-found"},
    )


def test_round_trip() -> None:
    host, seq, back = from_wire(to_wire(_check(), host="h1", seq=7))
    assert (host, seq) == ("h1", 7)
    original = _check()
    assert back.taken_at == pytest.approx(original.taken_at, abs=1e-6)
    assert (back.cpu, back.memory, back.load, back.disks, back.services) == (
        original.cpu,
        original.memory,
        original.load,
        original.disks,
        original.services,
    )


def test_failed_probes_stay_none() -> None:
    check = Check(taken_at=1.0, cpu=None, memory=None, load=None)
    _, _, back = from_wire(to_wire(check, host="h", seq=1))
    assert back.cpu is None and back.memory is None and back.load is None and back.disks == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda w: w.pop("seq"), "seq"),
        (lambda w: w.update(seq=-1), "seq"),
        (lambda w: w.update(seq=1.5), "seq"),
        (lambda w: w.update(host=""), "host"),
        (lambda w: w.update(taken_at="yesterday"), "taken_at"),
        (lambda w: w.update(cpu=101), "cpu"),
        (lambda w: w.update(cpu=True), "cpu"),
        (lambda w: w["memory"].pop("used"), "memory.used"),
        (lambda w: w["disks"][0].update(percent="x"), "disks[0].percent"),
        (lambda w: w.update(services={"web": "up"}), "services.web"),
        (lambda w: w.update(disks={}), "disks"),
    ],
)
def test_a_malformed_field_is_named(change: object, field: str) -> None:
    wire = to_wire(_check(), host="h1", seq=7)
    change(wire)  # type: ignore[operator]
    with pytest.raises(WireError) as found:
        from_wire(wire)
    assert found.value.field == field


def _host_check() -> Check:
    rates: dict[str, float | None] = {n: 1.5 for n in NET_COUNTERS} | {"rx_errors": None}
    return Check(
        taken_at=1_796_000_000.5,
        cpu=1.0,
        memory=None,
        load=None,
        disks=[DiskUsage("/", 10, 4, 6, 40.0, inodes_total=100, inodes_free=75)],
        swap=SwapUsage(total=2048, used=512, free=1536, percent=25.0),
        procs=312,
        cpu_count=2,
        net=[NetUsage("lo", NetCounters(*range(8)), rates)],
        disk_io=[
            DiskIO(
                "vda", DiskIOCounters(1, 2, 3), {"read_bytes": 4096.0, "write_bytes": 0.0, "busy_ms": None}
            )
        ],
    )


def test_issue_12_readings_round_trip_as_rates() -> None:
    _, _, back = from_wire(json.loads(json.dumps(to_wire(_host_check(), host="h", seq=1))))
    sent = _host_check()
    assert (back.swap, back.procs, back.cpu_count) == (sent.swap, 312, 2)
    assert back.disks[0].inodes_percent == 25.0
    # Counters stay on the agent (it computes the rates; the store keeps only rates).
    assert back.net == [NetUsage("lo", None, sent.net[0].rates)]
    assert back.disk_io == [DiskIO("vda", None, sent.disk_io[0].rates)]


def test_an_older_agents_check_still_validates() -> None:
    wire = to_wire(_check(), host="h", seq=1)
    for key in ("swap", "procs", "cpu_count", "net", "disk_io"):
        wire.pop(key)
    for disk in wire["disks"]:
        disk.pop("inodes_total"), disk.pop("inodes_free")
    _, _, back = from_wire(wire)
    assert back.swap is None and back.procs is None and back.net == [] and back.disk_io == []
    assert back.disks[0].inodes_percent is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda w: w["net"][0]["rates"].update(rx_bytes=-1), "net[0].rates.rx_bytes"),
        (lambda w: w["net"][0]["rates"].update(bogus=1), "net[0].rates.bogus"),
        (lambda w: w["net"][0].pop("iface"), "net[0].iface"),
        (lambda w: w["net"][0].update(iface="x" * 65), "net[0].iface"),
        (lambda w: w["net"][0].update(rates=[]), "net[0].rates"),
        (lambda w: w.update(net={}), "net"),
        (lambda w: w["disk_io"][0]["rates"].update(busy_ms="x"), "disk_io[0].rates.busy_ms"),
        (lambda w: w["swap"].update(percent=101), "swap.percent"),
        (lambda w: w["swap"].pop("percent"), "swap.percent"),
        (lambda w: w.update(procs=1.5), "procs"),
        (lambda w: w.update(cpu_count=10**6), "cpu_count"),
        (lambda w: w["disks"][0].update(inodes_free=-3), "disks[0].inodes_free"),
    ],
)
def test_a_malformed_host_reading_is_named(change: object, field: str) -> None:
    wire = json.loads(json.dumps(to_wire(_host_check(), host="h1", seq=7)))
    change(wire)  # type: ignore[operator]
    with pytest.raises(WireError) as found:
        from_wire(wire)
    assert found.value.field == field


@pytest.mark.parametrize(
    ("path", "value", "stored"),
    [
        (("memory", "total"), 564.0, 564),  # an integer to JSON Schema too
        (("memory", "total"), 2**53 - 1, 2**53 - 1),
        (("memory", "total"), 2**53, None),
        (("memory", "total"), True, None),
        (("memory", "total"), -1, None),
        (("memory", "percent"), 100, 100),
        (("memory", "percent"), float("nan"), None),
        (("disks", 0, "percent"), float("inf"), None),
        (("disks", 0, "inodes_free"), 7.0, 7),
        (("disks", 0, "inodes_free"), 7.5, None),
        (("load", "load1"), 1_000_000.0, 1_000_000.0),
        (("load", "load1"), 1_000_001, None),
        (("load", "load5"), False, None),
    ],
)
def test_edge_values_are_taken_or_named_alike_on_every_path(
    path: tuple[str | int, ...], value: object, stored: object
) -> None:
    wire = to_wire(_check(), host="h1", seq=7)
    wire["disks"][0].update(inodes_total=100, inodes_free=50)
    parent: Any = wire
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    field = ".".join(f"[{k}]" if isinstance(k, int) else k for k in path).replace(".[", "[")
    if stored is None:
        with pytest.raises(WireError) as found:
            from_wire(wire)
        assert found.value.field == field
        return
    _, _, back = from_wire(wire)
    got: Any = back
    for key in path:
        got = got[key] if isinstance(key, int) else getattr(got, key)
    assert got == stored and type(got) is type(stored)
