"""checkd.store checks: round trips, keyset paging under concurrent inserts, cpu history, and the
on-disk size of a check in SQLite. Real databases: a SQLite file in tmp_path (and the session's
PostgreSQL where the shared `engine` fixture provides it)."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from checkd import store
from checkd.db import make_engine, migrate
from checkd.probes import (
    Check,
    CheckProbe,
    DiskIO,
    DiskUsage,
    LoadAverage,
    MemoryUsage,
    NetUsage,
    SwapUsage,
)

KIB = 1024
GIB = 2**30
BASE = 1_795_000_000  # a whole second, 2026


def make_check(
    i: int,
    *,
    taken_at: float | None = None,
    cpu: float | None = 12.34,
    disks: tuple[str, ...] = ("/",),
    services: dict[str, str] | None = None,
) -> Check:
    """A fully populated check whose values are exactly representable in the stored units."""
    return Check(
        taken_at=float(BASE + i if taken_at is None else taken_at),
        cpu=cpu,
        memory=MemoryUsage(
            total=16 * GIB, available=(9 * GIB) + i * KIB, used=6 * GIB - i * KIB, percent=42.5
        ),
        load=LoadAverage(0.52, 1.25, 2.0),
        disks=[
            DiskUsage(
                path=p, total=250 * GIB, used=100 * GIB + n * KIB, free=150 * GIB - n * KIB, percent=40.01
            )
            for n, p in enumerate(disks)
        ],
        services=services if services is not None else {"httpd": "active"},
    )


def insert(engine: Engine, host: str, items: list[Check]) -> list[int]:
    with engine.begin() as conn:
        return store.insert_checks(conn=conn, host=host, items=items)


def comparable(check: Check) -> dict[str, object]:
    data = dataclasses.asdict(check)
    data.pop("duration_s", None)  # how long taking it took is not stored
    return data


# -- round trip ------------------------------------------------------------------------------------
def test_insert_get_list_round_trip(engine: Engine) -> None:
    original = make_check(
        1, disks=("/", "/var"), services={"httpd": "active", "db": "not-found", "cron": "failed"}
    )
    [check_id] = insert(engine, "web1", [original])
    assert original.id == check_id
    assert original.host == "web1"
    with engine.connect() as conn:
        got = store.get_check(conn=conn, check_id=check_id)
        listed = store.list_checks(conn=conn, host="web1")
    assert got is not None
    assert comparable(got) == comparable(original)
    assert [comparable(c) for c in listed] == [comparable(original)]


def test_failed_probe_fields_round_trip_as_none(engine: Engine) -> None:
    empty = Check(taken_at=float(BASE), cpu=None, memory=None, load=None, disks=[], services={})
    [check_id] = insert(engine, "web1", [empty])
    with engine.connect() as conn:
        got = store.get_check(conn=conn, check_id=check_id)
    assert got is not None
    assert (got.cpu, got.memory, got.load, got.disks, got.services) == (None, None, None, [], {})


def test_every_service_state_round_trips(engine: Engine) -> None:
    states = ["active", "inactive", "failed", "activating", "deactivating", "unknown", "not-found"]
    original = make_check(0, services={f"svc{n}": s for n, s in enumerate(states)})
    [check_id] = insert(engine, "web1", [original])
    with engine.connect() as conn:
        got = store.get_check(conn=conn, check_id=check_id)
    assert got is not None
    assert got.services == original.services


def test_list_is_newest_first_per_host_and_get_missing_is_none(engine: Engine) -> None:
    insert(engine, "a", [make_check(i) for i in range(5)])
    insert(engine, "b", [make_check(i) for i in range(3)])
    with engine.connect() as conn:
        a = store.list_checks(conn=conn, host="a")
        b = store.list_checks(conn=conn, host="b", limit=2)
        assert store.list_checks(conn=conn, host="nobody") == []
        assert store.get_check(conn=conn, check_id=10**9) is None
        window = store.list_checks(conn=conn, host="a", since=BASE + 1, until=BASE + 3)
    assert [c.taken_at for c in a] == [BASE + i for i in (4, 3, 2, 1, 0)]
    assert {c.host for c in a} == {"a"}
    assert [c.taken_at for c in b] == [BASE + 2, BASE + 1]
    assert [c.taken_at for c in window] == [BASE + 3, BASE + 2, BASE + 1]


# -- keyset paging ---------------------------------------------------------------------------------
def test_keyset_paging_has_no_duplicates_and_no_gaps_while_inserting_concurrently(engine: Engine) -> None:
    # Three checks per second, so pages split inside a second: the (taken_at, id) tie-break matters.
    existing = insert(engine, "h", [make_check(0, taken_at=BASE + i // 3) for i in range(300)])
    stop = threading.Event()
    added: list[int] = []

    def writer() -> None:
        n = 0
        while not stop.is_set():
            added.extend(insert(engine, "h", [make_check(0, taken_at=BASE + 1000 + n)]))
            n += 1
            time.sleep(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen: list[tuple[float, int]] = []
        before: tuple[int, int] | None = None
        pages = 0
        while True:
            with engine.connect() as conn:
                page = store.list_checks(conn=conn, host="h", limit=17, before=before)
            pages += 1
            if not page:
                break
            assert all(c.id is not None for c in page)
            seen.extend((c.taken_at, c.id) for c in page if c.id is not None)
            last = page[-1]
            assert last.id is not None
            before = (int(last.taken_at), last.id)
            time.sleep(0.005)  # let the writer get in between pages
    finally:
        stop.set()
        thread.join()

    ids = [i for _, i in seen]
    assert len(ids) == len(set(ids)), "a check was returned twice"
    assert seen == sorted(seen, reverse=True), "pages are not newest first"
    assert set(existing) <= set(ids), f"missing: {sorted(set(existing) - set(ids))[:10]}"
    assert set(ids) <= set(existing) | set(added)
    assert pages >= 300 // 17
    assert added, "the writer never inserted while paging"


# -- cpu history -----------------------------------------------------------------------------------
def test_cpu_history_is_the_newest_n_oldest_first(engine: Engine) -> None:
    insert(engine, "h", [make_check(i, cpu=float(i)) for i in range(10)])
    with engine.connect() as conn:
        assert store.cpu_history(conn=conn, host="h", size=3) == [
            (BASE + 7, 7.0),
            (BASE + 8, 8.0),
            (BASE + 9, 9.0),
        ]
        assert store.cpu_history(conn=conn, host="h", size=1) == [(BASE + 9, 9.0)]
        assert store.cpu_history(conn=conn, host="h", size=0) == []


def test_cpu_history_returns_what_exists_when_fewer_than_n(engine: Engine) -> None:
    insert(engine, "h", [make_check(i, cpu=float(i)) for i in range(4)])
    insert(engine, "other", [make_check(i) for i in range(20)])
    with engine.connect() as conn:
        got = store.cpu_history(conn=conn, host="h", size=10000)
        assert store.cpu_history(conn=conn, host="nobody", size=5) == []
    assert got == [(BASE + i, float(i)) for i in range(4)]


def test_cpu_history_keeps_a_failed_reading_as_none_and_orders_ties_by_insertion(engine: Engine) -> None:
    insert(engine, "h", [make_check(0, taken_at=BASE, cpu=1.0), make_check(0, taken_at=BASE, cpu=None)])
    insert(engine, "h", [make_check(0, taken_at=BASE, cpu=3.0)])
    with engine.connect() as conn:
        assert store.cpu_history(conn=conn, host="h", size=2) == [(BASE, None), (BASE, 3.0)]


# -- size on disk ----------------------------------------------------------------------------------
CHECKS_FOR_SIZE = 20_000


# A busy-ish host's rates: up to 2 MB/s and 2,000 packets/s each way, no errors or drops.
NET_RATE_LIMITS = {"rx_bytes": 2_000_000, "tx_bytes": 2_000_000, "rx_packets": 2_000, "tx_packets": 2_000,
                   "rx_errors": 1, "tx_errors": 1, "rx_drops": 1, "tx_drops": 1}  # fmt: skip


def _rates(rng: random.Random, limits: dict[str, int]) -> dict[str, float | None]:
    """A rate below each limit, drawn from `rng`."""
    return {name: float(rng.randrange(0, limit)) for name, limit in limits.items()}


@pytest.mark.parametrize(("host_readings", "budget"), [(True, 160)], ids=["1iface-1dev-160B"])
def test_sqlite_bytes_per_check_stay_within_the_budget(
    tmp_path: Path, host_readings: bool, budget: int
) -> None:
    """The storage budget of issue 12, indexes included: at most 160 bytes per check with one disk,
    one service, one network interface and one block device, swap, processes and inodes.
    (Issue 2's 100 bytes held for the check before issue 12 added to it: bench/storage.py.)"""
    db_file = tmp_path / "size.db"
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        migrate(engine)
        real = CheckProbe(
            disk_paths=["/"], service_states=lambda: {"httpd": "active"}, host_counts=host_readings
        ).take_check()
        assert real.memory is not None
        assert real.load is not None
        rng = random.Random(7)
        batch: list[Check] = []
        for i in range(CHECKS_FOR_SIZE):
            mem_used = real.memory.used + rng.randrange(-50_000, 50_000) * KIB
            [disk] = real.disks
            disk_used = disk.used + i * 4 * KIB
            if not host_readings:
                disk = dataclasses.replace(disk, inodes_total=None, inodes_free=None)
            inodes_free = None if disk.inodes_free is None else disk.inodes_free - i
            check = Check(
                taken_at=float(BASE + i),
                cpu=round(rng.uniform(0, 100), 1),
                memory=dataclasses.replace(
                    real.memory,
                    used=mem_used,
                    available=real.memory.total - mem_used,
                    percent=round(100 * mem_used / real.memory.total, 1),
                ),
                load=LoadAverage(rng.uniform(0, 4), rng.uniform(0, 4), rng.uniform(0, 4)),
                disks=[
                    dataclasses.replace(
                        disk,
                        used=disk_used,
                        free=disk.total - disk_used,
                        percent=round(100 * disk_used / disk.total, 1),
                        inodes_free=inodes_free,
                    )
                ],
                services={"httpd": rng.choice(["active", "inactive"])},
            )
            if host_readings:
                # A busy-ish host: up to 2 MB/s and 2,000 packets/s each way, 5 MB/s of writes.
                # Some swap in use (this machine may have none, which would store in 0 bytes).
                swap_used = rng.randrange(0, 2 * GIB)
                check.swap = SwapUsage(
                    2 * GIB, swap_used, 2 * GIB - swap_used, round(swap_used / GIB * 50, 1)
                )
                check.procs, check.cpu_count = real.procs, real.cpu_count
                net = _rates(rng, NET_RATE_LIMITS)
                check.net = [NetUsage("eth0", None, net)]
                io = _rates(rng, {"read_bytes": 1_000_000, "write_bytes": 5_000_000, "busy_ms": 1000})
                check.disk_io = [DiskIO("sda", None, io)]
            batch.append(check)
            if len(batch) == 1000:
                insert(engine, "host-1", batch)
                batch = []
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM checks").scalar() == CHECKS_FOR_SIZE
            if host_readings:
                assert conn.exec_driver_sql("SELECT count(*) FROM check_net").scalar() == CHECKS_FOR_SIZE
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    wal = db_file.with_name(db_file.name + "-wal")
    size = db_file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    per_check = size / CHECKS_FOR_SIZE
    print(f"\nSQLite: {size} bytes for {CHECKS_FOR_SIZE} checks = {per_check:.1f} bytes per check")
    assert per_check <= budget, f"{per_check:.1f} bytes per check"
