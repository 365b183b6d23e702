"""Alerts in a real `checkd serve`: a service going down fires a signed webhook, shows in the API,
/metrics, /healthz and the CLI; a restart of checkd while it fires sends no duplicate; recovery
resolves it; silences and the test notification through the API and CLI."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from checkd_process import CheckdProcess, free_port, run_cli
from receiver import Receiver


def _config(tmp_path: Path, port: int, hook: Receiver, pidfile: Path) -> Path:
    path = tmp_path / "checkd.toml"
    path.write_text(f"""
[server]
port = {port}

[services.web]
backend = "command"
control = false
pidfile = "{pidfile}"

[[alerts.rules]]
name = "web-down"
service = "web"
severity = "critical"

[notify]
repeat = "4h"

[[notify.targets]]
name = "ops"
type = "webhook"
url = "{hook.url}/hook"
secret = "s3cret"
""")
    return path


def test_a_service_alert_end_to_end(
    tmp_path: Path, make_server: Callable[..., CheckdProcess], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    pidfile = tmp_path / "web.pid"  # absent: the service is inactive
    port = free_port()
    config = _config(tmp_path, port, hook, pidfile)
    data = tmp_path / "data"
    server = make_server(data, port=port, args=("--config", str(config)))
    (firing,) = hook.wait_for(1, timeout=15)
    assert firing["status"] == "firing" and firing["commonLabels"]["alertname"] == "web-down"
    assert firing["commonLabels"]["service"] == "web" and firing["commonLabels"]["severity"] == "critical"
    page = server.get("/api/v2/alerts").json()
    (alert,) = page["items"]
    assert (alert["rule"], alert["state"], alert["summary"]) == (
        "web-down",
        "firing",
        "service web is inactive",
    )
    assert alert["last_notified_at"] is not None and page["next_cursor"] is None
    rules = server.get("/api/v2/alerts/rules").json()
    assert [(r["name"], r["kind"], r["state"]) for r in rules] == [("web-down", "service", "firing")]
    assert server.get("/healthz").json()["alerts_firing"] == 1
    metrics = server.get("/metrics").text
    assert 'checkd_alerts{alertname="web-down",severity="critical",state="firing"} 1.0' in metrics
    assert re.search(r'checkd_notifications_total\{outcome="sent",target="ops"\} 1\.0', metrics), metrics
    assert 'checkd_alerting_errors_total{kind="evaluation"} 0.0' in metrics

    server.stop()  # restart checkd while the alert fires: no second notification within `repeat`
    server.start()
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 3)
    assert len(hook.requests) == 1
    assert server.get("/api/v2/alerts").json()["items"][0]["id"] == alert["id"]

    pidfile.write_text(f"{os.getpid()}\n")  # a live pid: active again, the alert resolves
    bodies = hook.wait_for(2, timeout=15)
    assert bodies[1]["status"] == "resolved" and bodies[1]["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
    server.wait_for(lambda: server.get("/healthz").json()["alerts_firing"] == 0)
    done = run_cli("alerts", "--state", "resolved", "--config", str(config), "--data-dir", str(data))
    assert done.returncode == 0 and "web-down" in done.stdout and "resolved" in done.stdout, done.stderr
    log = server.get("/api/v2/notifications").json()
    assert [(n["target"], n["status"]) for n in log] == [("ops", "sent"), ("ops", "sent")]


def test_silence_and_test_notification_routes(
    tmp_path: Path, make_server: Callable[..., CheckdProcess], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    port = free_port()
    config = _config(tmp_path, port, hook, tmp_path / "web.pid")
    data = tmp_path / "data"
    server = make_server(data, port=port, args=("--config", str(config)))
    alert_id = server.wait_for(lambda: server.get("/api/v2/alerts").json()["items"])[0]["id"]
    url = f"/api/v2/alerts/{alert_id}/silence"
    assert server.post(url, json={"for": "1h"}).status_code == 401
    bad = server.post(url, json={"for": "an hour"}, headers=server.auth())
    assert bad.status_code == 422 and bad.json()["detail"].startswith("for: "), bad.text
    unknown = server.post("/api/v2/alerts/99999/silence", json={"for": "1h"}, headers=server.auth())
    assert unknown.status_code == 404 and unknown.json()["detail"] == "alert_id: no alert 99999"
    ok = server.post(url, json={"for": "1h"}, headers=server.auth())
    assert ok.status_code == 200 and ok.json()["silenced_until"] is not None
    assert server.get("/api/v2/alerts?state=nope").status_code == 422
    assert server.get("/api/v2/alerts?cursor=abc").json()["detail"].startswith("cursor: ")
    assert server.get("/api/v2/alerts?host=nosuchhost").status_code == 404

    done = run_cli("notify", "test", "--config", str(config), "--data-dir", str(data))
    assert done.returncode == 0 and done.stdout.startswith("ops: ok in "), done.stdout + done.stderr
    assert hook.bodies()[-1]["commonLabels"]["alertname"] == "checkd-test"
    hook.stop()
    done = run_cli("notify", "test", "--config", str(config), "--data-dir", str(data))
    assert done.returncode == 1 and "ops: FAILED" in done.stdout
    assert run_cli("alerts", "--state", "bogus", "--config", str(config)).returncode == 2


def test_a_restart_that_hangs_never_delays_the_sampler(
    tmp_path: Path, make_server: Callable[..., CheckdProcess]
) -> None:
    config = tmp_path / "checkd.toml"
    config.write_text("""
[services.slow]
backend = "command"
start = ["/bin/sleep", "30"]
stop = ["/bin/true"]
status = ["/bin/false"]
timeout = 6

[[alerts.rules]]
name = "slow-down"
service = "slow"
restart = true
max_restarts = 1
""")
    server = make_server(args=("--config", str(config)))
    server.wait_for(
        lambda: [a for a in server.get("/api/v2/alerts").json()["items"] if a["state"] == "firing"]
    )
    before = server.get("/api/v2/sampler").json()["checks_total"]
    time.sleep(4)  # the restart runs (and hangs) on the evaluator's thread meanwhile
    assert server.get("/api/v2/sampler").json()["checks_total"] - before >= 3
    audit = server.wait_for(lambda: server.get("/api/v2/actions").json(), timeout=20)
    assert audit[0]["actor"] == "alert" and audit[0]["status"] == 504
    gave_up = server.wait_for(lambda: server.get("/api/v2/alerts?state=gave-up").json()["items"], timeout=20)
    assert gave_up[0]["rule"] == "slow-down"
    time.sleep(2)
    assert len(server.get("/api/v2/actions").json()) == 1  # no restart after giving up


def test_a_sampler_stopped_through_the_api_is_not_stale(
    tmp_path: Path, make_server: Callable[..., CheckdProcess]
) -> None:
    config = tmp_path / "checkd.toml"
    config.write_text('[[alerts.rules]]\nname = "no-checks"\nstale = "3s"\n')
    server = make_server(args=("--config", str(config)))
    assert server.post("/api/v2/sampler/stop", headers=server.auth()).status_code == 200
    time.sleep(5)
    assert server.get("/api/v2/alerts").json()["items"] == []
    (rule,) = server.get("/api/v2/alerts/rules").json()
    assert (rule["name"], rule["kind"], rule["state"]) == ("no-checks", "stale", "inactive")
    assert server.post("/api/v2/sampler/start", headers=server.auth()).status_code == 200
    time.sleep(2)
    assert server.get("/api/v2/alerts").json()["items"] == []
