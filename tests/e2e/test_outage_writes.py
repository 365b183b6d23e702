"""Database outages (PostgreSQL stopped, SQLite locked): audit entries wait, sampler changes answer 503."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from checkd_process import CheckdProcess
from pg_server import PostgresServer


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _config(tmp_path: Path) -> Path:
    """`ok`: a command service whose pidfile names this (live) test process, so a stop "fails" (502)
    after its 2 s timeout, well inside the client's; `locked`: control = false."""
    alive = tmp_path / "alive.pid"
    alive.write_text(f"{os.getpid()}\n")
    path = tmp_path / "checkd.toml"
    path.write_text(
        f"""
[services.ok]
backend = "command"
pidfile = "{alive}"
start = ["true"]
stop = ["true"]
timeout = 2

[services.locked]
backend = "command"
control = false
pidfile = "{alive}"
start = ["true"]
stop = ["true"]
"""
    )
    return path


@pytest.fixture
def pg_down_after(postgres: PostgresServer) -> Iterator[PostgresServer]:
    """The session's PostgreSQL, started again at teardown whatever the test left."""
    yield postgres
    if postgres.pid is None:
        postgres.start()


def _server(tmp_path: Path, url: str, **kw: Any) -> CheckdProcess:
    args = ("--database-url", url, "--host-name", "solo", "--config", str(_config(tmp_path)))
    return CheckdProcess(tmp_path / "data", args=args, **kw)


def _saved_state(url: str) -> tuple[bool, int] | None:
    with psycopg.connect(_dsn(url)) as conn:
        row = conn.execute("SELECT running, interval_s FROM sampler_state").fetchone()
    return None if row is None else (bool(row[0]), int(row[1]))


def test_actions_and_refusals_during_an_outage_are_recorded_in_order(
    pg_down_after: PostgresServer, tmp_path: Path
) -> None:
    url = pg_down_after.create_database()
    server = _server(tmp_path, url).start()
    try:
        server.wait_for(lambda: server.get("/healthz").json()["database"] == "ok")
        assert server.post("/api/v2/services/ok/stop", headers=server.auth()).status_code in (200, 502)
        pg_down_after.stop()
        answers = [
            server.post("/api/v2/services/ok/start", headers=server.auth()).status_code,
            server.post("/api/v2/services/locked/stop", headers=server.auth()).status_code,
            server.post("/api/v2/services/nope/restart", headers=server.auth()).status_code,
        ]
        assert answers == [200, 403, 404], "actions are answered while the database is down"
        waiting = server.get("/api/v2/sampler").json()
        assert waiting["audit_pending"] == 3 and waiting["audit_dropped_total"] == 0
        pg_down_after.start()
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["audit_pending"] == 0, timeout=30)
        entries = server.get("/api/v2/actions", params={"limit": 10}).json()
        got = [(e["service"], e["action"], e["status"]) for e in reversed(entries)]
        assert got[-3:] == [("ok", "start", 200), ("locked", "stop", 403), ("nope", "restart", 404)]
        assert len(got) == 4, "the action before the outage, then the three in order, each once"
        assert "audit log saved again" in server.log()
    finally:
        server.close()


def test_sampler_changes_during_an_outage_answer_503_stay_applied_and_are_saved_later(
    pg_down_after: PostgresServer, tmp_path: Path
) -> None:
    url = pg_down_after.create_database()
    server = _server(tmp_path, url, interval=None).start()
    try:
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 1)
        assert _saved_state(url) in (None, (True, 60))
        pg_down_after.stop()
        stop = server.post("/api/v2/sampler/stop", headers=server.auth())
        assert stop.status_code == 503, stop.text
        assert stop.json()["detail"].startswith("state: stopped, but not saved (")
        assert "retried until it holds" in stop.json()["detail"]
        put = server.client.put("/api/v2/sampler", json={"interval_s": 7}, headers=server.auth())
        assert put.status_code == 503 and "interval set to 7s, but not saved" in put.json()["detail"]
        status = server.get("/api/v2/sampler").json()
        assert (status["running"], status["interval_s"], status["state_saved"]) == (False, 7, False)
        pg_down_after.start()
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["state_saved"], timeout=30)
        assert _saved_state(url) == (False, 7)
        status = server.get("/api/v2/sampler").json()
        assert status["running"] is False, "never reverted"
        assert server.post("/api/v2/sampler/stop", headers=server.auth()).status_code == 200
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["audit_pending"] == 0, timeout=30)
        entries = server.get("/api/v2/actions").json()
        got = [(e["service"], e["action"], e["status"], e["ok"], e["state"]) for e in reversed(entries)]
        assert got == [
            ("sampler", "stop", 503, True, "stopped"),
            ("sampler", "interval", 503, True, "stopped"),
            ("sampler", "stop", 200, True, "stopped"),
        ]
        assert "not saved" in entries[2]["message"], "the stop in the outage waited and was written"
        interval = entries[1]["message"]
        assert interval.startswith("interval 60s → 7s; ") and "not saved" in interval
    finally:
        server.close()
    again = _server(tmp_path, url, interval=None).start()
    try:
        # PostgreSQL opens in the background: the saved state is restored before it says ok.
        again.wait_for(lambda: again.get("/healthz").json()["database"] == "ok", timeout=60)
        status = again.get("/api/v2/sampler").json()
        assert (status["running"], status["interval_s"]) == (False, 7), "the restart keeps what was set"
    finally:
        again.close()


def test_a_stop_before_the_database_is_reached_is_not_undone_when_it_comes(
    pg_down_after: PostgresServer, tmp_path: Path
) -> None:
    url = pg_down_after.create_database()
    first = _server(tmp_path, url).start()
    first.wait_for(lambda: first.get("/healthz").json()["database"] == "ok", timeout=60)
    assert first.post("/api/v2/sampler/start", headers=first.auth()).status_code == 200
    first.close()
    assert _saved_state(url) == (True, 1)
    pg_down_after.stop()
    server = _server(tmp_path, url).start()  # waits for the database in the background
    try:
        assert server.get("/healthz").json()["database"].startswith("unavailable")
        stop = server.post("/api/v2/sampler/stop", headers=server.auth())
        assert stop.status_code == 503 and "already stopped, but not saved" in stop.json()["detail"]
        pg_down_after.start()
        server.wait_for(lambda: server.get("/healthz").json()["database"] == "ok", timeout=60)
        time.sleep(2.5)  # several intervals: a restored "running" would have started the sampler
        status = server.get("/api/v2/sampler").json()
        assert status["running"] is False and status["checks_total"] == 0 and status["state_saved"]
        assert _saved_state(url) == (False, 1)
    finally:
        server.close()


def test_a_change_still_waiting_at_shutdown_is_saved_as_set_not_as_shutdown_leaves_it(
    pg_down_after: PostgresServer, tmp_path: Path
) -> None:
    url = pg_down_after.create_database()
    server = _server(tmp_path, url, interval=None).start()
    try:
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 1)
        pg_down_after.stop()
        put = server.client.put("/api/v2/sampler", json={"interval_s": 7}, headers=server.auth())
        assert put.status_code == 503
        pg_down_after.start()
        assert server.stop() == 0  # shutdown stops the sampler, then saves what still waits
    finally:
        server.close()
    assert _saved_state(url) == (True, 7), "saved as set through the API: running, every 7 s"


def test_sqlite_that_takes_no_writes_answers_503_on_put_and_saves_when_it_does(
    make_server: Any, tmp_path: Path
) -> None:
    # Another process holding SQLite's write lock: every write fails after the busy timeout, as on
    # a full disk, but the test can end it.
    data = tmp_path / "data"
    server = make_server(data, interval=None)
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 1)
    blocker = sqlite3.connect(data / "checkd.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        put = server.client.put("/api/v2/sampler", json={"interval_s": 5}, headers=server.auth())
        assert put.status_code == 503, put.text
        assert put.json()["detail"].startswith("state: interval set to 5s, but not saved (")
        status = server.get("/api/v2/sampler").json()
        assert (status["interval_s"], status["state_saved"]) == (5, False)
    finally:
        blocker.rollback()
        blocker.close()
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["state_saved"], timeout=30)
    with sqlite3.connect(data / "checkd.db") as conn:
        assert conn.execute("SELECT running, interval_s FROM sampler_state").fetchone() == (1, 5)
