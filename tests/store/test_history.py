"""History series and incremental rollups on real SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import Connection, Engine

from checkd import store
from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage

KEEP = store.Retentions(raw=30 * 86400, minute=180 * 86400)


def _series(
    conn: Connection, metric: str, qualifier: str | None, span: tuple[int, int], points: int, now: int
) -> store.Series:
    """Host "h"'s series of `metric` over `span` with the default retentions."""
    return store.series(
        conn=conn,
        host="h",
        metric=metric,
        qualifier=qualifier,
        since=span[0],
        until=span[1],
        points=points,
        now=now,
        keep=KEEP,
    )


def spaced_checks(start: int, n: int, step: int) -> list[Check]:
    """`n` checks `step` seconds apart from `start`: cpu i % 100, load1 i/100, httpd down every 4th."""
    return [
        Check(
            taken_at=start + i * step,
            cpu=float(i % 100),
            memory=MemoryUsage(100 * 1024, 50 * 1024, 50 * 1024, 50.0),
            load=LoadAverage(i / 100, 1.0, 1.0),
            disks=[DiskUsage("/", 100 * 1024, 40 * 1024, 60 * 1024, 40.0)],
            services={"httpd": "active" if i % 4 else "inactive"},
        )
        for i in range(n)
    ]


def test_rollups_match_raw_and_are_incremental(engine: Engine) -> None:
    now = int(time.time()) // 3600 * 3600
    first, second = spaced_checks(now - 7200, 360, 10), spaced_checks(now - 3600, 360, 10)
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=first)
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 360
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 0, "folded checks are not folded again"
        store.insert_checks(conn=conn, host="h", items=second)
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 360
    with engine.connect() as conn:
        hourly = _series(conn, "cpu_percent", None, (now - 7200, now - 1), 2, now)
        raw = _series(conn, "cpu_percent", None, (now - 7200, now - 1), 5000, now)
    assert hourly.resolution_s == 3600 and len(hourly.points) == 2
    assert raw.resolution_s == 10 or raw.resolution_s < 60
    values = [c.cpu for c in first]
    t, lo, avg, hi = hourly.points[0]
    assert t == now - 7200
    assert (lo, hi) == (min(values), max(values))
    assert abs(avg - sum(values) / len(values)) < 1e-9  # type: ignore[arg-type]


def test_availability_and_disk_series(engine: Engine) -> None:
    now = int(time.time())
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=spaced_checks(now - 400, 40, 10))
    with engine.begin() as conn:
        store.fold_new_checks(conn=conn, host="h")
    with engine.connect() as conn:
        avail = _series(conn, "availability", "httpd", (now - 400, now), 1, now)
        disk = _series(conn, "disk_percent", "/", (now - 400, now), 100, now)
    assert len(avail.points) == 1
    lo, avg, hi = avail.points[0][1:]
    assert (lo, hi) == (0.0, 100.0) and abs(avg - 75.0) < 1e-9  # 3 of every 4 checks active
    assert {p[2] for p in disk.points} == {40.0}


def test_series_has_at_most_points_buckets(engine: Engine) -> None:
    now = int(time.time())
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=spaced_checks(now - 3000, 300, 10))
    with engine.begin() as conn:
        store.fold_new_checks(conn=conn, host="h")
    with engine.connect() as conn:
        for points in (1, 2, 7, 50, 299, 300, 5000):
            s = _series(conn, "load1", None, (now - 3000, now), points, now)
            assert 1 <= len(s.points) <= points


def test_tier_choice() -> None:
    now = 10**9
    assert store.history.choose_tier(since=now - 3600, until=now, points=500, now=now, keep=KEEP) == (
        store.history.Plan(None, 8, now - 3600)
    )
    assert store.history.choose_tier(since=now - 86400, until=now, points=500, now=now, keep=KEEP).tier == 1
    month = store.history.choose_tier(since=now - 30 * 86400, until=now, points=500, now=now, keep=KEEP)
    assert month.tier == 2 and month.width % 3600 == 0 and month.origin % 3600 == 0
    # Older than raw retention: never answered from raw checks even for a short range.
    assert (
        store.history.choose_tier(
            since=now - 40 * 86400, until=now - 40 * 86400 + 600, points=500, now=now, keep=KEEP
        ).tier
        == 1
    )


def test_plan_never_exceeds_points() -> None:
    rng = random.Random(7)
    now = 1_800_000_000
    for _ in range(2000):
        since = now - rng.randint(0, 40 * 86400)
        until = rng.randint(since, now)
        points = rng.randint(1, 5000)
        plan = store.history.choose_tier(since=since, until=until, points=points, now=now, keep=KEEP)
        assert plan.origin <= since
        buckets = (until - plan.origin) // plan.width + 1
        assert buckets <= points, (since, until, points, plan)


def test_fold_takes_only_its_hosts_checks_and_children_when_hosts_interleave(engine: Engine) -> None:
    now = int(time.time())
    h, g = spaced_checks(now - 400, 40, 10), spaced_checks(now - 400, 40, 10)
    for c in g:
        c.services = {"httpd": "inactive"}
        c.disks = [DiskUsage("/", 100 * 1024, 90 * 1024, 10 * 1024, 90.0)]
    for mine, other in zip(h, g, strict=True):  # ids of the two hosts alternate, as in a fleet
        with engine.begin() as conn:
            store.insert_checks(conn=conn, host="h", items=[mine])
            store.insert_checks(conn=conn, host="g", items=[other])
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 40
        assert store.fold_new_checks(conn=conn, host="h") == 0
    with engine.connect() as conn:
        avail = _series(conn, "availability", "httpd", (now - 400, now), 1, now)
        disk = _series(conn, "disk_percent", "/", (now - 400, now), 1, now)
    assert abs(avail.points[0][2] - 75.0) < 1e-9, "another host's service states were folded in"
    assert disk.points[0][1:] == (40.0, 40.0, 40.0), "another host's disks were folded in"


def test_fold_follows_a_clock_stepped_back_by_less_than_an_hour(engine: Engine) -> None:
    now = int(time.time())
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=spaced_checks(now - 600, 10, 10))
        assert store.fold_new_checks(conn=conn, host="h") == 10
        # The clock steps back 30 minutes: these are newer checks with older times.
        store.insert_checks(conn=conn, host="h", items=spaced_checks(now - 600 - 1800, 5, 10))
        assert store.fold_new_checks(conn=conn, host="h") == 5


def test_two_folds_of_one_host_take_turns(engine: Engine) -> None:
    """Two folders of one host (a duplicated host name, an import beside the live checkd) must not
    fold the same checks twice: the second waits for the first's watermark, then finds nothing."""
    now = int(time.time())
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=spaced_checks(now - 400, 20, 10))
        assert store.fold_new_checks(conn=conn, host="h", batch=10) == 10  # the watermark row exists
    second: dict[str, int] = {}
    with engine.connect() as first:
        with first.begin():
            assert store.fold_new_checks(conn=first, host="h") == 10

            def fold_again() -> None:
                with engine.begin() as conn:
                    second["folded"] = store.fold_new_checks(conn=conn, host="h")

            waiter = threading.Thread(target=fold_again)
            waiter.start()
            waiter.join(1.0)
            assert waiter.is_alive(), "the second fold did not wait for the first"
        waiter.join(10)
    assert second == {"folded": 0}
    with engine.connect() as conn:
        avail = _series(conn, "availability", "httpd", (now - 400, now), 1, now)
    assert abs(avail.points[0][2] - 75.0) < 1e-9 and len(avail.points) == 1


def test_rollup_ranges_include_the_checks_not_yet_folded(engine: Engine) -> None:
    now = int(time.time()) // 3600 * 3600 + 1800
    folded, fresh = spaced_checks(now - 600, 30, 10), spaced_checks(now - 300, 30, 10)
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=folded)
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="h") == 30
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=fresh)  # after the watermark: not folded
    values = [c.cpu for c in folded + fresh]
    with engine.connect() as conn:
        minute = _series(conn, "cpu_percent", None, (now - 3600, now), 120, now)
        hourly = _series(conn, "cpu_percent", None, (now - 30 * 86400, now), 720, now)
        disk = _series(conn, "disk_percent", "/", (now - 3600, now), 120, now)
        avail = _series(conn, "availability", "httpd", (now - 30 * 86400, now), 720, now)
    assert minute.resolution_s == 60 and hourly.resolution_s >= 3600
    assert minute.points[-1][0] == now - 60, "the newest minute (only unfolded checks) is there"
    assert sum(1 for _ in minute.points) == 10
    t, lo, avg, hi = hourly.points[-1]
    assert t == now - 1800 and (lo, hi) == (min(values), max(values))  # type: ignore[type-var]
    assert abs(avg - sum(values) / len(values)) < 1e-9, "folded and unfolded checks each counted once"  # type: ignore[arg-type]
    assert disk.points[-1][0] == now - 60 and disk.points[-1][2] == 40.0
    states = [c.services["httpd"] == "active" for c in folded + fresh]
    assert abs(avail.points[-1][2] - 100 * sum(states) / len(states)) < 1e-9


def test_a_never_folded_host_reads_its_raw_checks_in_rollup_ranges(engine: Engine) -> None:
    # Half a minute into the last whole minute: the three checks fall in one minute bucket.
    now = int(time.time()) // 60 * 60 - 30
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=spaced_checks(now - 5, 3, 1))
    with engine.connect() as conn:
        minute = _series(conn, "cpu_percent", None, (now - 3600, now), 120, now)
        monthly = _series(conn, "cpu_percent", None, (now - 30 * 86400, now), 720, now)
    assert [p[2] for p in minute.points] == [1.0] and [p[2] for p in monthly.points] == [1.0]
