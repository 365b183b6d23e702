"""Service routes and the audit log against a real server: real apache2, real daemons, real hangs."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apache import apache_port, http_status, require_apache
from checkd_process import CheckdProcess, free_port, run_cli

PIDWRAPPER = Path(__file__).parents[1] / "control" / "fixtures" / "pidwrapper.py"
PY = sys.executable


def _config(tmp_path: Path, port: int) -> Path:
    """A config with httpd (apache2), a real daemon, an uncontrolled one, a hanging one, a dying one."""
    web_port = free_port()
    pid = tmp_path / "web.pid"
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("hello")
    alive = tmp_path / "alive.pid"
    alive.write_text(f"{__import__('os').getpid()}\n")  # the test process itself: always alive
    text = f"""
[server]
port = {port}

[services.httpd]
timeout = 30

[services.web]
backend = "command"
pidfile = "{pid}"
start = ["{PY}", "{PIDWRAPPER}", "start", "{pid}", "{web_port}", "{tmp_path / "www"}"]
stop = ["{PY}", "{PIDWRAPPER}", "stop", "{pid}"]
timeout = 10

[services.locked]
backend = "command"
control = false
pidfile = "{alive}"
start = ["true"]
stop = ["true"]

[services.hang]
backend = "command"
pidfile = "{alive}"
start = ["true"]
stop = ["sleep", "60"]
timeout = 1

[services.dies]
backend = "command"
pidfile = "{tmp_path / "never.pid"}"
start = ["{PY}", "-c", "import sys; sys.stdout.buffer.write(b'bad \\\\xff\\\\xfe bytes\\\\n')"]
stop = ["true"]
timeout = 1
"""
    path = tmp_path / "checkd.toml"
    path.write_text(text)
    return path


@pytest.fixture
def svc_server(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    port = free_port()
    return make_server(tmp_path / "data", port=port, args=("--config", str(_config(tmp_path, port))))


def _act(server: CheckdProcess, name: str, action: str, token: bool = True) -> Any:
    return server.post(f"/api/v2/services/{name}/{action}", headers=server.auth() if token else {})


def test_list_and_get(svc_server: CheckdProcess) -> None:
    services = svc_server.get("/api/v2/services").json()
    assert [s["name"] for s in services] == ["httpd", "web", "locked", "hang", "dies"]
    httpd = services[0]
    assert httpd["unit"] in ("apache2", "httpd") and httpd["control"] is True
    assert services[1]["unit"] is None  # command-backed: its commands are controlled, no unit
    assert svc_server.get("/api/v2/services/locked").json()["control"] is False
    assert svc_server.get("/api/v2/services/nope").status_code == 404


def test_command_daemon_start_stop_and_checks_record_every_service(svc_server: CheckdProcess) -> None:
    r = _act(svc_server, "web", "start")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["state"] == "active" and body["exit_code"] == 0
    assert set(body) >= {"service", "action", "ok", "state", "exit_code", "output", "duration_ms", "at"}
    svc_server.wait_for(
        lambda: svc_server.get("/api/v2/checks/latest").json()["services"].get("web") == "active"
    )
    latest = svc_server.get("/api/v2/checks/latest").json()
    assert set(latest["services"]) == {"httpd", "web", "locked", "hang", "dies"}
    r = _act(svc_server, "web", "stop")
    assert r.status_code == 200 and r.json()["state"] == "inactive"
    r = _act(svc_server, "web", "restart")
    assert r.status_code == 200 and r.json()["state"] == "active"
    assert _act(svc_server, "web", "stop").json()["ok"] is True


def test_nothing_to_do_is_200_audited_and_runs_nothing(svc_server: CheckdProcess) -> None:
    """start on active / stop on stopped say so and succeed; restart of a stopped service starts it."""
    pidfile = svc_server.data_dir.parent / "web.pid"
    try:
        assert _act(svc_server, "web", "start").status_code == 200
        pid = pidfile.read_text()
        steps = [("start", "web already active"), ("stop", "web stopped"), ("stop", "web already inactive")]
        for action, message in steps:
            r = _act(svc_server, "web", action)
            assert r.status_code == 200 and r.json()["ok"] is True, r.text
            assert r.json()["message"] == message
            if action == "start":
                assert r.json()["exit_code"] is None and pidfile.read_text() == pid  # no second daemon
        r = _act(svc_server, "web", "restart")
        assert (r.status_code, r.json()["state"], r.json()["message"]) == (
            200,
            "active",
            "web was inactive; started",
        )
        log = svc_server.get("/api/v2/actions", params={"limit": 4}).json()
        assert [(e["action"], e["ok"], e["status"], e["message"]) for e in log] == [
            ("restart", True, 200, "web was inactive; started"),
            ("stop", True, 200, "web already inactive"),
            ("stop", True, 200, "web stopped"),
            ("start", True, 200, "web already active"),
        ]
    finally:
        _act(svc_server, "web", "stop")


def test_a_command_backed_httpd_reports_no_apache2(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    port, web_port, pid = free_port(), free_port(), tmp_path / "httpd.pid"
    config = tmp_path / "httpd.toml"
    config.write_text(
        f"""
[server]
port = {port}

[services.httpd]
pidfile = "{pid}"
start = ["{PY}", "{PIDWRAPPER}", "start", "{pid}", "{web_port}", "{tmp_path}"]
stop = ["{PY}", "{PIDWRAPPER}", "stop", "{pid}"]
timeout = 10
"""
    )
    server = make_server(tmp_path / "data", port=port, args=("--config", str(config)))
    common = ("--config", str(config), "--data-dir", str(server.data_dir))
    try:
        assert server.get("/api/v2/services/httpd").json()["unit"] is None
        r = _act(server, "httpd", "start")
        assert r.status_code == 200 and r.json()["message"] == "httpd started", r.text
        status = run_cli("service", "status", "httpd", *common)
        assert status.stdout.strip() == "httpd: active", status
        listing = run_cli("service", "list", *common)
        assert "apache2" not in listing.stdout and "httpd" in listing.stdout, listing
        assert "apache2" not in server.get("/api/v2/actions").text
    finally:
        _act(server, "httpd", "stop")


def test_refusals_are_audited(svc_server: CheckdProcess) -> None:
    assert _act(svc_server, "locked", "start").status_code == 403
    assert _act(svc_server, "nope", "start").status_code == 404
    assert _act(svc_server, "web", "start", token=False).status_code == 401
    assert svc_server.post("/api/v2/services/web/explode", headers=svc_server.auth()).status_code == 422
    for bad in ("httpd;id", "..%2Fx", "httpd --now", "x" * 300):
        r = svc_server.post(f"/api/v2/services/{bad}/start", headers=svc_server.auth())
        assert r.status_code in (404, 422), (bad, r.status_code)
    log = svc_server.get("/api/v2/actions", params={"limit": 50}).json()
    statuses = {(e["service"], e["status"]) for e in log}
    assert ("locked", 403) in statuses and ("nope", 404) in statuses
    assert all(e["actor"] == "api" for e in log)


def test_hanging_stop_gives_504_and_the_api_keeps_answering(svc_server: CheckdProcess) -> None:
    result: dict[str, Any] = {}

    def stop() -> None:
        t0 = time.monotonic()
        result["response"] = _act(svc_server, "hang", "stop")
        result["elapsed"] = time.monotonic() - t0

    worker = threading.Thread(target=stop)
    worker.start()
    time.sleep(0.2)
    second = _act(svc_server, "hang", "stop")  # the same service while the first runs
    t0 = time.monotonic()
    assert svc_server.get("/healthz").status_code == 200
    assert time.monotonic() - t0 < 0.5, "the event loop is not blocked by the action"
    worker.join(10)
    r = result["response"]
    assert r.status_code == 504 and r.json()["ok"] is False
    assert result["elapsed"] < 1 + 1 + 0.5  # timeout + 1 s (+ HTTP slack)
    assert second.status_code == 409
    assert any(e["status"] == 409 for e in svc_server.get("/api/v2/actions").json())


def test_start_that_dies_at_once_is_502_and_bad_bytes_survive(svc_server: CheckdProcess) -> None:
    r = _act(svc_server, "dies", "start")
    assert r.status_code == 502
    body = r.json()
    assert body["ok"] is False and body["exit_code"] == 0 and body["state"] == "inactive"
    assert "\ufffd" in body["output"] and body["detail"]
    log = svc_server.get("/api/v2/actions").json()
    assert log[0]["service"] == "dies" and log[0]["status"] == 502


def test_cli_goes_through_the_server_and_is_audited(svc_server: CheckdProcess, tmp_path: Path) -> None:
    common = ("--config", str(tmp_path / "checkd.toml"), "--data-dir", str(svc_server.data_dir))
    listing = run_cli("service", "list", *common)
    assert listing.returncode == 0 and "httpd" in listing.stdout and "locked" in listing.stdout
    status = run_cli("service", "status", "locked", *common)
    assert status.returncode == 0 and "locked" in status.stdout and "active" in status.stdout
    refused = run_cli("service", "start", "locked", *common)
    assert refused.returncode == 1 and "403" in refused.stderr and "Traceback" not in refused.stderr
    entry = svc_server.get("/api/v2/actions").json()[0]
    assert (entry["service"], entry["actor"], entry["status"]) == ("locked", "cli", 403)
    svc_server.stop()
    down = run_cli("service", "list", *common)
    assert down.returncode == 1 and "not running" in down.stderr and "Traceback" not in down.stderr


@pytest.mark.root
def test_real_apache2_through_v2_and_v1(svc_server: CheckdProcess) -> None:
    """apache2 started and stopped through the API: port answers 200, then refuses; checks follow."""
    require_apache()
    port = apache_port()
    try:
        r = _act(svc_server, "httpd", "start")
        assert r.status_code == 200 and r.json()["state"] == "active", r.text
        assert http_status(port) == 200
        svc_server.wait_for(
            lambda: svc_server.get("/v1.0/checks/", params={"limit": 1}).json()[-1]["httpd"] == "active"
        )
        r = _act(svc_server, "httpd", "stop")
        assert r.status_code == 200 and r.json()["state"] == "inactive"
        assert http_status(port) == "refused"
        svc_server.wait_for(
            lambda: svc_server.get("/api/v2/checks/latest").json()["services"]["httpd"] == "inactive"
        )

        v1 = svc_server.client.get("/v1.0/checks/start/httpd", headers=svc_server.auth())
        assert v1.status_code == 200 and v1.json()["state"] == "active"
        assert http_status(port) == 200
        v1 = svc_server.client.get("/v1.0/checks/stop/httpd", headers=svc_server.auth())
        assert v1.status_code == 200 and v1.json()["state"] == "inactive"
        assert http_status(port) == "refused"
        assert svc_server.client.get("/v1.0/checks/start/httpd").status_code == 401
    finally:
        if svc_server.get("/api/v2/services/httpd").json()["state"] != "inactive":
            _act(svc_server, "httpd", "stop")
