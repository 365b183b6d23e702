"""A real `checkd serve` at interval 1 s: accumulation, history, stop/start, restarts and kill -9."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from checkd_process import CheckdProcess


def _count(server: CheckdProcess) -> int:
    return len(server.get("/v1.0/checks/", params={"limit": 10000}).json())


def test_checks_accumulate_with_v1_shape(server: CheckdProcess) -> None:
    server.wait_for(lambda: _count(server) >= 3)
    checks = server.get("/v1.0/checks/").json()
    ids = [c["id"] for c in checks]
    assert ids == sorted(ids), "v1 checks come oldest first"
    newest = checks[-1]
    assert set(newest) == {"id", "taken_at", "cpu", "memory", "disk", "httpd"}
    assert 0 <= newest["cpu"] <= 100
    assert newest["memory"]["total"] > newest["memory"]["available"] > 0
    assert newest["disk"]["path"] == "/" and newest["disk"]["total"] > 0
    assert newest["httpd"] in {"active", "inactive", "failed", "unknown", "not-found"}
    assert newest["taken_at"].endswith("Z")
    # The same check through v2, with load average and the services map.
    v2 = server.get(f"/api/v2/checks/{newest['id']}").json()
    assert v2["load"]["load1"] >= 0 and v2["services"]["httpd"] == newest["httpd"]


def test_cpu_history_is_newest_n_oldest_first(server: CheckdProcess) -> None:
    server.wait_for(lambda: _count(server) >= 4)
    everything = server.get("/v1.0/checks/", params={"limit": 10000}).json()
    history = server.get("/v1.0/checks/cpu/history", params={"size": 3}).json()
    assert len(history) == 3
    times = [datetime.fromisoformat(p["taken_at"]) for p in history]
    assert times == sorted(times)
    newest_three = everything[-3:] if everything[-1]["taken_at"] == history[-1]["taken_at"] else None
    if newest_three is not None:  # no new check landed between the two reads
        assert [p["cpu"] for p in history] == [c["cpu"] for c in newest_three]
    assert server.get("/v1.0/checks/cpu/history").json().__len__() <= 10  # default size 10
    many = server.get("/v1.0/checks/cpu/history", params={"size": 10000}).json()
    assert 4 <= len(many) < 10000, "fewer rows than size returns what exists"
    assert server.get("/v1.0/checks/cpu/history", params={"size": 0}).json() == []


def test_stop_stops_accumulation_and_start_resumes(server: CheckdProcess) -> None:
    server.wait_for(lambda: _count(server) >= 2)
    stopped = server.client.get("/v1.0/checks/stop", headers=server.auth()).json()
    assert stopped["running"] is False and stopped["message"] == "stopped"
    again = server.client.get("/v1.0/checks/stop", headers=server.auth()).json()
    assert again["message"] == "already stopped"
    n = _count(server)
    time.sleep(2.5)
    assert _count(server) == n, "no checks while stopped"
    assert server.get("/healthz").json()["sampler"] == "stopped"

    started = server.post("/api/v2/sampler/start", headers=server.auth()).json()
    assert started["running"] is True and started["message"] == "started"
    assert server.post("/api/v2/sampler/start", headers=server.auth()).json()["message"] == "already running"
    server.wait_for(lambda: _count(server) >= n + 2)


def test_interval_change_applies_and_persists(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    server = make_server(tmp_path / "d", interval=None)  # no --interval flag: the API's value persists
    r = server.client.put("/api/v2/sampler", json={"interval_s": 2}, headers=server.auth())
    assert r.status_code == 200 and r.json()["interval_s"] == 2
    server.stop()
    again = CheckdProcess(tmp_path / "d", interval=None).start()
    try:
        assert again.get("/api/v2/sampler").json()["interval_s"] == 2
    finally:
        again.close()


def test_restart_keeps_stopped_state(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> None:
    data = tmp_path / "d"
    first = make_server(data)
    first.wait_for(lambda: _count(first) >= 1)
    assert first.post("/api/v2/sampler/stop", headers=first.auth()).json()["running"] is False
    assert first.stop() == 0
    n = _count_db(data)

    second = make_server(data)
    assert second.get("/api/v2/sampler").json()["running"] is False
    time.sleep(2.5)
    assert _count_db(data) == n, "a stopped sampler stays stopped across a restart"
    second.post("/api/v2/sampler/start", headers=second.auth())
    assert second.stop() == 0

    third = make_server(data)
    assert third.get("/api/v2/sampler").json()["running"] is True


def _count_db(data: Path) -> int:
    with sqlite3.connect(data / "checkd.db") as db:
        return int(db.execute("SELECT count(*) FROM checks").fetchone()[0])


def test_kill_9_leaves_a_sound_database_and_sampling_resumes(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    data = tmp_path / "d"
    first = make_server(data)
    first.wait_for(lambda: _count(first) >= 3)
    first.stop(signal.SIGKILL)
    with sqlite3.connect(data / "checkd.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n = _count_db(data)
    second = make_server(data)
    second.wait_for(lambda: _count_db(data) >= n + 2)
    ids = [c["id"] for c in second.get("/v1.0/checks/", params={"limit": 10000}).json()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_flushes_the_last_check_and_exits_0(
    make_server: Callable[..., CheckdProcess], tmp_path: Path, sig: signal.Signals
) -> None:
    data = tmp_path / "d"
    server = make_server(data)
    server.wait_for(lambda: _count(server) >= 2)
    status_before = server.get("/api/v2/sampler").json()
    assert server.stop(sig) == 0
    assert _count_db(data) >= status_before["checks_total"]
    assert "Traceback" not in server.log()
