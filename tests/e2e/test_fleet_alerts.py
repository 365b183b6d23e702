"""One alert evaluator per fleet host across collectors: two real collectors on one real PostgreSQL,
one host's pushes split between them, a rule that fires: one alert row, one notification."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from agent_process import ingest_tokens, pushed_checks
from checkd_process import CheckdProcess
from pg_server import PostgresServer
from receiver import Receiver

RULES = """
[sampler]
autostart = false  # the collectors' own checks would fire the rule too
[[alerts.rules]]
name = "cpu-busy"
metric = "cpu_percent"
above = 10
for = "0s"
[[notify.targets]]
name = "ops"
type = "webhook"
url = "{url}/hook"
"""


def _collectors(tmp_path: Path, url: str, hook: Receiver) -> list[CheckdProcess]:
    config = tmp_path / "collector.toml"
    config.write_text(RULES.format(url=hook.url))
    return [
        CheckdProcess(
            tmp_path / name,
            interval=60,
            args=("--database-url", url, "--host-name", name, "--config", str(config)),
        ).start()
        for name in ("collector-a", "collector-b")
    ]


def _push(srv: CheckdProcess, token: str, host: str, seqs: range, cpu: float) -> None:
    batch = pushed_checks(host, seqs, taken_at=time.time() - 1)
    for check in batch:
        check["cpu"] = cpu
    deadline = time.monotonic() + 30
    while True:  # 503 while the database comes back: retried, as the agent does
        r = srv.post("/api/v2/ingest", json=batch, headers={"Authorization": f"Bearer {token}"})
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 200 and r.json()["accepted"] == len(seqs), r.text


def _alerts(srv: CheckdProcess, host: str) -> list[dict[str, Any]]:
    r = srv.get("/api/v2/alerts", params={"host": host})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def _events(hook: Receiver) -> list[Any]:
    return [json.loads(body) for _, _, body in hook.requests]


def test_a_host_pushed_to_two_collectors_alerts_and_notifies_once(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    hook = Receiver().start()
    a, b = _collectors(tmp_path, url, hook)
    (token,) = ingest_tokens(url, ["split1"]).values()
    try:
        seq = 1
        # Busy, idle, busy again, each phase pushed alternately to both collectors, as an agent
        # failing over back and forth would: fired, resolved, fired again, each said once.
        for phase, cpu in enumerate((50.0, 1.0, 50.0)):
            for round_ in range(4):
                _push((a, b)[round_ % 2], token, "split1", range(seq, seq + 2), cpu=cpu)
                seq += 2
                time.sleep(0.5)
            a.wait_for(lambda n=phase + 1: len(hook.requests) >= n, timeout=30)
        time.sleep(5)  # time for a second evaluator, if there were one, to fire and send too
        alerts = _alerts(a, "split1")
        assert [(x["rule"], x["state"]) for x in alerts] == [("cpu-busy", "firing"), ("cpu-busy", "resolved")]
        assert _alerts(b, "split1") == alerts
        events = [e["status"] for e in _events(hook)]
        assert events == ["firing", "resolved", "firing"], json.dumps(_events(hook), indent=1)
    finally:
        a.close()
        b.close()
        hook.stop()


def test_the_claim_moves_when_its_collector_dies(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    hook = Receiver().start()
    a, b = _collectors(tmp_path, url, hook)
    (token,) = ingest_tokens(url, ["moved1"]).values()
    try:
        _push(a, token, "moved1", range(1, 3), cpu=50.0)  # a claims the host, fires and notifies
        a.wait_for(lambda: len(hook.requests) == 1, timeout=30)
        _push(b, token, "moved1", range(3, 5), cpu=1.0)  # b may not claim it: a evaluates these
        a.wait_for(lambda: len(hook.requests) == 2, timeout=30)
        assert "evaluating alert rules of fleet host moved1 here" not in b.log()
        a.stop(signal.SIGKILL)  # its session, and the claim with it, ends
        _push(b, token, "moved1", range(5, 7), cpu=50.0)
        b.wait_for(lambda: len(hook.requests) == 3, timeout=30)
        assert "evaluating alert rules of fleet host moved1 here" in b.log()
        states = [(x["rule"], x["state"]) for x in _alerts(b, "moved1")]
        assert states == [("cpu-busy", "firing"), ("cpu-busy", "resolved")]
        assert [e["status"] for e in _events(hook)] == ["firing", "resolved", "firing"]
    finally:
        a.close()
        b.close()
        hook.stop()


def _fleet_errors(srv: CheckdProcess) -> float:
    for line in srv.get("/metrics").text.splitlines():
        if line.startswith('checkd_alerting_errors_total{kind="fleet"}'):
            return float(line.split()[-1])
    raise AssertionError("no fleet errors counter in /metrics")


def test_claims_lost_with_the_database_session_are_counted_and_taken_again(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    hook = Receiver().start()
    a, b = _collectors(tmp_path, url, hook)
    (token,) = ingest_tokens(url, ["lost1"]).values()
    try:
        _push(a, token, "lost1", range(1, 3), cpu=50.0)  # a claims the host
        a.wait_for(lambda: len(hook.requests) == 1, timeout=30)
        assert _fleet_errors(a) == 0
        postgres.restart(down_for=2)  # every session ends: a's claim with it
        a.wait_for(lambda: _fleet_errors(a) >= 1, timeout=30)
        assert "the database session holding the hosts' claims was lost" in a.log()
        sampler = a.get("/api/v2/sampler").json()  # the same faults, where the others are shown
        assert sampler["fleet_errors_total"] >= 1
        assert sampler["fleet_last_error"] is not None
        _push(b, token, "lost1", range(3, 5), cpu=1.0)  # b claims it now
        b.wait_for(lambda: len(hook.requests) == 2, timeout=30)
        _push(a, token, "lost1", range(5, 7), cpu=50.0)  # b holds it: b reads these from SQL
        b.wait_for(lambda: len(hook.requests) == 3, timeout=30)
        time.sleep(3)
        assert [e["status"] for e in _events(hook)] == ["firing", "resolved", "firing"]
        assert [x["state"] for x in _alerts(a, "lost1")] == ["firing", "resolved"]
    finally:
        a.close()
        b.close()
        hook.stop()
