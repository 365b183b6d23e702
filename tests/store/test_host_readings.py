"""Issue 12's host readings in the store, on real SQLite and PostgreSQL: migration 0007 matches the
models, checks round-trip (one at a time and in batches), old-shaped checks read back as before,
the fold gives every new history metric exactly what arithmetic gives, raw and rolled-up series
agree, and a counter that resets stores a null, never a spike."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select

from checkd import store
from checkd.models import check_net, metadata, metric_names, rollups
from checkd.probes import (
    Check,
    DiskIO,
    DiskUsage,
    EndpointResult,
    LoadAverage,
    MemoryUsage,
    NetUsage,
    SwapUsage,
)
from checkd.probes.devices import DeviceProbe
from checkd.probes.readings import NetCounters
from checkd.schemas import CheckOut, CheckV1
from checkd.store.history import metric_key

from .test_history import KEEP

MINE = ("device_names", "probe_names", "check_net", "check_net_faults", "check_disk_io", "check_probes",
        "swap_permille", "procs", "cpu_count", "inodes_permille")  # fmt: skip
NET_FIELDS = NetCounters._fields
SERIES = [
    ("net_rx_bytes", "eth0"),
    ("disk_busy_percent", "sda"),
    ("probe_up", "site"),
    ("probe_latency_ms", "site"),
    ("inodes_percent", None),
    ("load1_per_core", None),
    ("swap_percent", None),
    ("procs_total", None),
]


def host_check(
    t: int, i: int, *, ifaces: tuple[str, ...] = ("eth0",), devices: tuple[str, ...] = ("sda",)
) -> Check:
    """A check with every issue-12 reading; values exactly representable in the stored units."""
    net_rates: dict[str, float | None] = {n: float(1000 * (i + 1) + k) for k, n in enumerate(NET_FIELDS)}
    net_rates.update(rx_errors=0.0, tx_errors=0.0, rx_drops=0.0, tx_drops=0.0)  # the usual: no row stored
    if i % 2:
        net_rates["rx_errors"], net_rates["tx_drops"] = 0.25, None  # hundredths; a counter that reset
    return Check(
        taken_at=float(t),
        cpu=float(i % 100),
        memory=MemoryUsage(100 * 1024, 50 * 1024, 50 * 1024, 50.0),
        load=LoadAverage(1.5 + i / 100, 1.0, 1.0),
        disks=[
            DiskUsage("/", 100 * 1024, 40 * 1024, 60 * 1024, 40.0, inodes_total=1000, inodes_free=750 - i)
        ],
        services={"httpd": "active"},
        swap=SwapUsage(2048, 512, 1536, 25.0 + i),
        procs=100 + i,
        cpu_count=2,
        net=[
            NetUsage(name, None, {**net_rates, "rx_bytes": float(5000 * (i + 1) + n)})
            for n, name in enumerate(ifaces)
        ],
        disk_io=[
            DiskIO(
                dev, None, {"read_bytes": 4096.0 * i, "write_bytes": 8192.0 + i, "busy_ms": 10.0 * (i % 10)}
            )
            for dev in devices
        ],
        endpoints=[
            EndpointResult("site", "http", i % 3 != 0, float(t), latency_ms=12.5 + i, status_code=200),
            EndpointResult("db", "tcp", False, float(t), latency_ms=None, error="refused"),
        ],
    )


def readings(c: Check) -> dict[str, float]:
    """Every history metric of `check`, by rollup metric name, as arithmetic gives it."""
    out: dict[str, float] = {}
    assert c.swap is not None and c.load is not None and c.procs is not None and c.cpu_count
    out["swap_percent"], out["procs_total"] = c.swap.percent, float(c.procs)
    out["load1_per_core"] = c.load.load1 / c.cpu_count
    for d in c.disks:
        assert d.inodes_percent is not None
        out[f"inodes_percent:{d.path}"] = d.inodes_percent
    for n in c.net:
        for direction in ("rx", "tx"):
            value = n.rates[f"{direction}_bytes"]
            assert value is not None
            out[f"net_{direction}_bytes:{n.iface}"] = value
    for io in c.disk_io:
        assert io.busy_percent is not None
        out[f"disk_read_bytes:{io.device}"] = io.rates["read_bytes"] or 0.0
        out[f"disk_write_bytes:{io.device}"] = io.rates["write_bytes"] or 0.0
        out[f"disk_busy_percent:{io.device}"] = io.busy_percent
    for e in c.endpoints:
        out[f"probe_up:{e.name}"] = 100.0 if e.up else 0.0
        if e.latency_ms is not None:
            out[f"probe_latency_ms:{e.name}"] = e.latency_ms
    return out


def test_migration_0007_creates_what_the_models_say(engine: Engine) -> None:
    with engine.connect() as conn:
        # Tables the models do not name (PostgreSQL's day partitions of these tables) are not diffs.
        modelled = {"include_name": lambda name, kind, _parents: kind != "table" or name in metadata.tables}
        diffs = compare_metadata(MigrationContext.configure(conn, opts=modelled), metadata)
    assert [d for d in diffs if any(name in repr(d) for name in MINE)] == []


@pytest.mark.parametrize("batch", [1, 3], ids=["one-check", "batch"])
def test_host_readings_round_trip_and_show_in_the_v2_shape(engine: Engine, batch: int) -> None:
    now = int(time.time())
    # Shapes differ within the batch: two interfaces, no block device.
    items = [
        host_check(now + i, i, ifaces=("eth0", "lo") if i else ("eth0",), devices=() if i == 2 else ("sda",))
        for i in range(batch)
    ]
    with engine.begin() as conn:
        ids = store.insert_checks(conn=conn, host="h", items=items)
    with engine.connect() as conn:
        for original, new_id in zip(items, ids, strict=True):
            got = store.get_check(conn=conn, check_id=new_id)
            assert got is not None
            assert got.swap is not None and got.swap.percent == original.swap.percent  # type: ignore[union-attr]
            assert (got.procs, got.cpu_count) == (original.procs, original.cpu_count)
            assert [d.inodes_percent for d in got.disks] == [d.inodes_percent for d in original.disks]
            assert [(n.iface, n.rates) for n in got.net] == sorted((n.iface, n.rates) for n in original.net)
            assert [(d.device, d.rates, d.busy_percent) for d in got.disk_io] == [
                (d.device, d.rates, d.busy_percent) for d in original.disk_io
            ]
            assert [(e.name, e.kind, e.up, e.latency_ms) for e in got.endpoints] == sorted(
                (e.name, e.kind, e.up, e.latency_ms) for e in original.endpoints
            )
        listed = store.list_checks(conn=conn, host="h", limit=10)
    out = CheckOut.of(listed[-1]).model_dump()
    first = items[0]
    assert out["swap_percent"] == 25.0 and out["procs"] == 100 and out["load"]["load1_per_core"] == 0.75
    assert out["disks"][0]["inodes_percent"] == 25.0
    assert (
        out["net"] == [{"iface": "eth0", **{f"{k}_per_s": first.net[0].rates[k] for k in NET_FIELDS}}]
        and out["net"][0]["tx_drops_per_s"] == 0.0
    ), "no errors or drops: no check_net_faults row, read back as 0"
    assert out["disk_io"] == [
        {"device": "sda", "read_bytes_per_s": 0.0, "write_bytes_per_s": 8192.0, "busy_percent": 0.0}
    ]
    assert out["probes"] == [
        {"name": "db", "kind": "tcp", "up": False, "latency_ms": None},
        {"name": "site", "kind": "http", "up": False, "latency_ms": 12.5},
    ]


def test_a_check_without_host_readings_reads_back_as_before(engine: Engine) -> None:
    """Old rows (and checks whose probes failed) have nulls and empty lists; v1's shape is unchanged."""
    plain = replace(host_check(1_795_000_000, 0), swap=None, procs=None, cpu_count=None, net=[], disk_io=[],
                    endpoints=[], disks=[DiskUsage("/", 100 * 1024, 40 * 1024, 60 * 1024, 40.0)])  # fmt: skip
    with engine.begin() as conn:
        [new_id] = store.insert_checks(conn=conn, host="h", items=[plain])
    with engine.connect() as conn:
        got = store.get_check(conn=conn, check_id=new_id)
    assert got is not None
    out = CheckOut.of(got).model_dump()
    assert (out["swap_percent"], out["procs"], out["net"], out["disk_io"], out["probes"]) == (
        None,
        None,
        [],
        [],
        [],
    )
    assert out["load"]["load1_per_core"] is None and out["disks"][0]["inodes_percent"] is None
    v1 = CheckV1.of(got).model_dump()
    assert set(v1) == {"id", "taken_at", "cpu", "memory", "disk", "httpd"}
    assert set(v1["disk"]) == {"path", "total", "used", "free", "percent"}


def test_the_fold_gives_every_new_metric_what_arithmetic_gives_and_series_agree(engine: Engine) -> None:
    now = int(time.time()) // 3600 * 3600
    items = [host_check(now - 3600 + 20 * i, i) for i in range(90)]  # 30 minutes, 20 s apart
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=items[:50])
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 50
        store.insert_checks(conn=conn, host="h", items=items[50:])
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 40
    expected: dict[tuple[str, int], list[float]] = defaultdict(list)
    for c in items:
        for name, value in readings(c).items():
            expected[name, int(c.taken_at) // 60 * 60].append(value)
    with engine.connect() as conn:
        names = dict(conn.execute(select(metric_names.c.id, metric_names.c.name)).all())
        got = {
            (names[r.metric_id], r.bucket): r
            for r in conn.execute(select(rollups).where(rollups.c.tier == 1))
        }
        for key, values in expected.items():
            row = got[key]
            assert (row.min, row.max, row.count) == pytest.approx((min(values), max(values), len(values))), (
                key
            )
            assert row.total == pytest.approx(sum(values)), key
        # The same series from the raw checks (24 s buckets) and the minute rollups (60 s buckets).
        for metric, qualifier in SERIES:
            key = metric_key(metric, qualifier)
            span = (now - 3600, now - 1)
            minute = store.series(conn=conn, host="h", metric=metric, qualifier=qualifier, since=span[0],
                                  until=span[1], points=60, now=now, keep=KEEP)  # fmt: skip
            raw = store.series(conn=conn, host="h", metric=metric, qualifier=qualifier, since=span[0],
                               until=span[1], points=150, now=now, keep=KEEP)  # fmt: skip
            assert minute.resolution_s == 60 and raw.resolution_s == 24, metric
            everything = [v for (name, _), vs in expected.items() if name == key for v in vs]
            for s in (minute, raw):
                assert min(p[1] for p in s.points) == pytest.approx(min(everything)), metric
                assert max(p[3] for p in s.points) == pytest.approx(max(everything)), metric


def test_a_counter_that_resets_stores_a_null_for_that_check_not_a_spike(engine: Engine) -> None:
    """A real DeviceProbe reading scripted counters (a reset cannot be made to happen here)."""
    script = iter([1_000_000, 1_000_000 + 10_000, 500, 500 + 10_000])
    counters = {"eth0": NetCounters(0, 0, 0, 0, 0, 0, 0, 0)}

    def read(only: object = None) -> dict[str, NetCounters]:
        counters["eth0"] = counters["eth0"]._replace(rx_bytes=next(script))
        return dict(counters)

    probe = DeviceProbe(["eth0"], kind="net", read=read)  # reads the first value at start-up
    checks = []
    for i in range(3):
        time.sleep(0.05)
        [(name, values, rates)] = probe.read()
        check = replace(host_check(1_795_000_000 + i, i), net=[NetUsage(name, values, rates)])
        checks.append(check)
    assert [c.net[0].rates["rx_bytes"] for c in checks][1] is None
    with engine.begin() as conn:
        ids = store.insert_checks(conn=conn, host="h", items=checks)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(check_net.c.check_id, check_net.c.rx_bytes)).all())
        t0 = 1_795_000_000
        series = store.series(conn=conn, host="h", metric="net_rx_bytes", qualifier="eth0", since=t0,
                              until=t0 + 10, points=100, now=t0 + 10, keep=KEEP)  # fmt: skip
    assert stored[ids[1]] is None and stored[ids[0]] is not None and stored[ids[2]] is not None
    assert max(p[3] for p in series.points) <= 10_000 / 0.05, "no spike from the reset"
    assert len(series.points) == 2
