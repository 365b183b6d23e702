"""GET /api/v2/upkeep and the upkeep's part in /healthz, on a real server."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from checkd_process import CheckdProcess


def test_upkeep_route_shows_the_threads_counters(server: CheckdProcess) -> None:
    body = server.wait_for(lambda: (b := server.get("/api/v2/upkeep").json())["last_fold_at"] and b)
    assert body["running"] is True
    assert body["health"] == "ok"
    assert body["errors_total"] == 0 and body["last_error"] is None
    assert body["fold_every_s"] == 60
    assert body["folded_total"] >= 0 and body["deleted_total"] >= 0
    assert 0 <= body["fold_lag_s"] < 60
    assert body["last_prune_at"] is not None
    health = server.get("/healthz").json()
    assert (health["status"], health["upkeep"]) == ("ok", "ok")
    paths = server.get("/openapi.json").json()["paths"]
    assert paths["/api/v2/upkeep"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UpkeepOut"
    }


def test_a_failing_fold_makes_healthz_degraded(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    """The fold's bookkeeping table is gone (a damaged database): every fold fails. The server
    keeps sampling; /healthz says degraded with upkeep failing, and the route says why."""
    first = make_server(tmp_path / "data")
    first.wait_for(lambda: first.get("/api/v2/sampler").json()["checks_total"] >= 1)
    first.stop()
    with sqlite3.connect(tmp_path / "data" / "checkd.db") as db:
        db.execute("DROP TABLE rollup_progress")
    server = make_server(tmp_path / "data")
    health = server.wait_for(lambda: (h := server.get("/healthz").json())["upkeep"] == "failing" and h)
    assert health["status"] == "degraded"
    assert (health["sampler"], health["database"]) == ("running", "ok")
    body = server.get("/api/v2/upkeep").json()
    assert body["health"] == "failing" and body["errors_total"] >= 1
    assert "rollup_progress" in body["last_error"]
    assert server.get("/api/v2/sampler").json()["errors_total"] == 0
