"""A check as the agent pushes it and back: exact round trip, and errors naming the field."""

from __future__ import annotations

import pytest

from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage
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
