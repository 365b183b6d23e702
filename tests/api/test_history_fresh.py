"""/api/v2/history on a real server: the newest checks show before the upkeep folds them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from checkd import store
from checkd.db import make_engine
from checkd.probes import Check, MemoryUsage
from checkd_process import CheckdProcess


def _history(server: CheckdProcess, span_s: int, points: int, host: str | None = None) -> dict:  # type: ignore[type-arg]
    since = datetime.fromtimestamp(time.time() - span_s, UTC).isoformat()
    params: dict[str, str | int] = {"since": since, "points": points}
    if host:
        params["host"] = host
    return dict(server.get("/api/v2/history/cpu_percent", params=params).json())


def _newest(body: dict) -> datetime | None:  # type: ignore[type-arg]
    return datetime.fromisoformat(body["points"][-1]["t"]) if body["points"] else None


def test_fresh_server_minute_and_hour_ranges_show_a_point_within_seconds(server: CheckdProcess) -> None:
    started = time.monotonic()
    hour = server.wait_for(lambda: _newest(_history(server, 3600, 120)), timeout=3, step=0.1)
    month = server.wait_for(lambda: _newest(_history(server, 30 * 86400, 720)), timeout=3, step=0.1)
    assert time.monotonic() - started < 2.5
    assert _history(server, 3600, 120)["resolution_s"] == 60, "1 h at 120 points reads minute rollups"
    assert _history(server, 30 * 86400, 720)["resolution_s"] >= 3600, "30 d reads hourly rollups"
    now = datetime.now(UTC)
    assert (now - hour).total_seconds() < 120 and (now - month).total_seconds() < 2 * 3600


def test_checks_after_the_last_fold_are_in_every_range(server: CheckdProcess) -> None:
    # A fleet host's checks are folded by its own checkd once a minute; this server reads them
    # from the shared store in between (here: written straight into the server's SQLite file).
    engine = make_engine(f"sqlite:///{server.data_dir / 'checkd.db'}")
    now = int(time.time())
    start = (now - 1800) // 60 * 60  # the three old checks in one minute bucket, whatever the second
    old = [Check(taken_at=start + i, cpu=10.0, memory=None, load=None) for i in range(3)]
    new = Check(taken_at=now, cpu=90.0, memory=MemoryUsage(1024, 512, 512, 50.0), load=None)
    try:
        with engine.begin() as conn:
            store.insert_checks(conn=conn, host="peer", items=old)
        with engine.begin() as conn:
            assert store.fold_new_checks(conn=conn, host="peer") == 3
        with engine.begin() as conn:
            store.insert_checks(conn=conn, host="peer", items=[new])  # not folded
    finally:
        engine.dispose()
    for span, points in ((3600, 120), (30 * 86400, 720)):
        body = _history(server, span, points, host="peer")
        newest = body["points"][-1]
        assert newest["max"] == 90.0, f"{span} s range at {body['resolution_s']} s buckets: {body['points']}"
    minute = _history(server, 3600, 120, host="peer")["points"]
    assert [p["max"] for p in minute] == [10.0, 90.0]
