"""Scoped named tokens and the failed-authentication limit, against a real server and `checkd token`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checkd_process import BROKEN_SERVICE_CONFIG, CheckdProcess, bearer, run_cli


def create_token(server: CheckdProcess, name: str, scope: str, *extra: str) -> str:
    """`checkd token create` against the server's own data dir; the printed secret."""
    proc = run_cli(
        "token", "create", "--name", name, "--scope", scope, *extra, "--data-dir", str(server.data_dir)
    )
    assert proc.returncode == 0, proc.stderr
    assert "shown only this once" in proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def srv(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    config = tmp_path / "checkd.toml"
    config.write_text(BROKEN_SERVICE_CONFIG)
    return make_server(args=("--config", str(config)))


def test_read_token_reads_but_cannot_operate_403_naming_the_scope(srv: CheckdProcess) -> None:
    token = create_token(srv, "dash", "read")
    r = srv.post("/api/v2/sampler/stop", headers=bearer(token))
    assert r.status_code == 403
    assert "'operate'" in r.json()["detail"]
    assert srv.get("/api/v2/sampler").json()["running"] is True
    r = srv.client.put("/api/v2/sampler", json={"interval_s": 5}, headers=bearer(token))
    assert r.status_code == 403
    refused = srv.get("/api/v2/actions").json()  # the refused sampler stop and interval are in the audit log
    assert [(e["service"], e["action"], e["actor"], e["ok"], e["status"]) for e in refused] == [
        ("sampler", "interval", "dash", False, 403),
        ("sampler", "stop", "dash", False, 403),
    ]
    assert all("'operate'" in e["message"] for e in refused)


def test_operate_token_runs_the_sampler_and_services_and_is_the_audit_actor(srv: CheckdProcess) -> None:
    token = create_token(srv, "ops-bot", "operate")
    r = srv.post("/api/v2/sampler/stop", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["running"] is False
    assert srv.get("/v1.0/checks/start", headers=bearer(token)).status_code == 200
    r = srv.post("/api/v2/services/broken/start", headers=bearer(token))
    assert r.status_code == 502, r.text  # the command fails, but the token was accepted
    actions = srv.get("/api/v2/actions").json()
    assert [(a["service"], a["action"], a["actor"]) for a in actions] == [
        ("broken", "start", "ops-bot"),
        ("sampler", "start", "ops-bot"),  # through /v1.0 as well
        ("sampler", "stop", "ops-bot"),
    ]


def test_an_interval_change_is_audited_with_its_actor_and_old_and_new_interval(srv: CheckdProcess) -> None:
    token = create_token(srv, "tuner", "operate")
    before = srv.get("/api/v2/sampler").json()["interval_s"]
    r = srv.client.put("/api/v2/sampler", json={"interval_s": before + 7}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["interval_s"] == before + 7
    entry = srv.get("/api/v2/actions").json()[0]
    assert (entry["service"], entry["action"], entry["actor"], entry["ok"], entry["status"]) == (
        "sampler",
        "interval",
        "tuner",
        True,
        200,
    )
    assert entry["message"] == f"interval {before}s → {before + 7}s"
    assert entry["state"] == "running"


def test_admin_file_token_and_named_admin_token_may_operate(srv: CheckdProcess) -> None:
    assert srv.post("/api/v2/sampler/stop", headers=srv.auth()).status_code == 200
    admin = create_token(srv, "root-2", "admin")
    assert srv.post("/api/v2/sampler/start", headers=bearer(admin)).status_code == 200


def test_ingest_token_cannot_operate(srv: CheckdProcess) -> None:
    token = create_token(srv, "web-1-ingest", "ingest", "--host", "web-1")
    r = srv.post("/api/v2/sampler/stop", headers=bearer(token))
    assert r.status_code == 403
    assert "'operate'" in r.json()["detail"]


def test_a_revoked_token_is_refused_at_once(srv: CheckdProcess) -> None:
    token = create_token(srv, "temp", "operate")
    assert srv.post("/api/v2/sampler/start", headers=bearer(token)).status_code == 200
    proc = run_cli("token", "revoke", "temp", "--data-dir", str(srv.data_dir))
    assert proc.returncode == 0, proc.stderr
    r = srv.post("/api/v2/sampler/start", headers=bearer(token))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_protected_reads_need_the_read_scope(make_server: Callable[..., CheckdProcess]) -> None:
    server = make_server(env={"CHECKD_AUTH__PROTECT_READS": "true"})
    reader = create_token(server, "reader", "read")
    ingest = create_token(server, "feeder", "ingest", "--host", "web-1")
    assert server.get("/api/v2/checks").status_code == 401
    assert server.get("/api/v2/checks", headers=bearer(reader)).status_code == 200
    r = server.get("/api/v2/checks", headers=bearer(ingest))
    assert r.status_code == 403
    assert "'read'" in r.json()["detail"]
    assert server.get("/api/v2/checks", headers=server.auth()).status_code == 200


def test_repeated_failed_authentication_gets_429_with_retry_after(srv: CheckdProcess) -> None:
    # Requests without any token are not guesses: they never count.
    for _ in range(15):
        assert srv.post("/api/v2/sampler/stop").status_code == 401
    for i in range(10):
        r = srv.post("/api/v2/sampler/stop", headers=bearer(f"guess-{i:02d}-0123456789abcdef"))
        assert r.status_code == 401, (i, r.text)
    r = srv.post("/api/v2/sampler/stop", headers=bearer("guess-10-0123456789abcdef"))
    assert r.status_code == 429
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 60
    assert "too many failed" in r.json()["detail"]
    # While blocked, even the right token is not tried (a guess that hits must not be revealed).
    assert srv.post("/api/v2/sampler/stop", headers=srv.auth()).status_code == 429
    assert srv.get("/api/v2/sampler").json()["running"] is True
    # Reads that need no token still work.
    assert srv.get("/api/v2/checks").status_code == 200


def test_the_failure_limit_is_configurable(make_server: Callable[..., CheckdProcess]) -> None:
    server = make_server(env={"CHECKD_AUTH__FAILURE_LIMIT": "2"})
    statuses = [
        server.post("/api/v2/sampler/stop", headers=bearer(f"guess-{i}-0123456789abcdef")).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 429]
