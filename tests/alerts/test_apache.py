"""Real apache2 killed with kill -9: the service rule notices, restarts it through the audited action
path (actor `alert`) and the webhook hears firing, then resolved. Run under /tmp/checkd-apache.lock."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from apache import apache_port, http_status, require_apache
from checkd_process import CheckdProcess, free_port
from receiver import Receiver

pytestmark = pytest.mark.root
PIDFILE = Path("/var/run/apache2/apache2.pid")


def _service(action: str) -> None:
    subprocess.run(["service", "apache2", action], capture_output=True, timeout=60, check=False)


@pytest.fixture
def apache() -> Iterator[None]:
    """apache2 stopped before the test and again after it, whatever happened."""
    require_apache()
    _service("stop")
    yield
    _service("stop")


def _kill_9_apache() -> int:
    """SIGKILL apache2's main process and its workers, by pid; return the main pid."""
    main = int(PIDFILE.read_text().split()[0])
    pids = [main, *(c.pid for c in psutil.Process(main).children(recursive=True))]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return main


def test_kill_9_is_noticed_restarted_and_notified(
    apache: None, tmp_path: Path, make_server: Callable[..., CheckdProcess], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    port = free_port()
    config = tmp_path / "checkd.toml"
    # max_restarts leaves room for this VM's init, which reaps the killed apache2 only after ~1.5 s
    # (until then the init script sees the zombie as running and refuses to start another).
    config.write_text(f"""
[server]
port = {port}
[services.httpd]
unit = "apache2"
timeout = 30
[[alerts.rules]]
name = "httpd-down"
service = "httpd"
restart = true
max_restarts = 5
restart_window = "10m"
severity = "critical"
[[notify.targets]]
name = "ops"
type = "webhook"
url = "{hook.url}/hook"
""")
    _service("start")
    assert http_status(apache_port()) == 200
    server = make_server(tmp_path / "data", port=port, args=("--config", str(config)))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    assert hook.requests == []  # running apache2: nothing to say

    old = _kill_9_apache()
    killed_at = time.monotonic()
    audit = server.wait_for(
        lambda: [a for a in server.get("/api/v2/actions").json() if a["actor"] == "alert" and a["ok"]],
        timeout=60,
    )
    assert audit[0]["service"] == "httpd" and audit[0]["action"] == "restart"
    took = time.monotonic() - killed_at
    assert took < 30, (
        took,
        [
            (a["ok"], a["status"], a["message"], a["duration_ms"])
            for a in server.get("/api/v2/actions").json()
        ],
    )
    assert int(PIDFILE.read_text().split()[0]) != old and http_status(apache_port()) == 200
    bodies = hook.wait_for(2, timeout=30)
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    assert bodies[0]["commonLabels"] == {
        "alertname": "httpd-down",
        "host": bodies[0]["commonLabels"]["host"],
        "severity": "critical",
        "service": "httpd",
    }
    (alert,) = server.get("/api/v2/alerts").json()["items"]
    assert alert["state"] == "resolved"
