"""POST /api/v2/ingest against a real server: tokens per host, limits, malformed checks, duplicates."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_process import ACTION_RESULT, ingest_token, pushed_checks
from checkd_process import CheckdProcess, bearer, run_cli


@pytest.fixture
def collector(make_server: Callable[..., CheckdProcess]) -> CheckdProcess:
    return make_server()


def _stored(srv: CheckdProcess, host: str) -> int:
    r = srv.get("/api/v2/checks", params={"host": host, "limit": 10000})
    return len(r.json()["items"]) if r.status_code == 200 else 0


def test_a_batch_is_stored_once_and_read_with_host(collector: CheckdProcess) -> None:
    token = ingest_token("web1", "--data-dir", str(collector.data_dir))
    batch = pushed_checks("web1", range(1, 11))
    r = collector.post("/api/v2/ingest", json=batch, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 10, "duplicates": 0}
    again = collector.post(
        "/api/v2/ingest", json=batch[5:] + pushed_checks("web1", [11]), headers=bearer(token)
    )
    assert again.json() == {"accepted": 1, "duplicates": 5}
    assert _stored(collector, "web1") == 11
    latest = collector.get("/api/v2/checks/latest", params={"host": "web1"}).json()
    assert latest["host"] == "web1" and latest["cpu"] == 12.5 and latest["services"] == {"web": "active"}
    hosts = {h["name"]: h for h in collector.get("/api/v2/hosts").json()}
    assert hosts["web1"]["checks"] == 11
    history = collector.get("/api/v2/history/cpu_percent", params={"host": "web1", "points": 10})
    assert history.status_code == 200 and history.json()["points"]


def test_gzip_and_ndjson_bodies(collector: CheckdProcess) -> None:
    token = ingest_token("web2", "--data-dir", str(collector.data_dir))
    ndjson = "\n".join(json.dumps(c) for c in pushed_checks("web2", [1, 2, 3])).encode()
    r = collector.post(
        "/api/v2/ingest",
        content=gzip.compress(ndjson),
        headers=bearer(token) | {"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0}
    r = collector.post(
        "/api/v2/ingest", content=b"\x1f\x8bnot gzip", headers=bearer(token) | {"Content-Encoding": "gzip"}
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("body: not valid gzip")


def test_wrong_and_revoked_tokens_are_401_and_store_nothing(collector: CheckdProcess) -> None:
    data = ("--data-dir", str(collector.data_dir))
    token = ingest_token("web3", *data)
    batch = pushed_checks("web3", [1, 2])
    r = collector.post("/api/v2/ingest", json=batch, headers=bearer("x" * 43))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    revoked = run_cli("hosts", "revoke", "web3", *data)
    assert revoked.returncode == 0, revoked.stderr
    r = collector.post("/api/v2/ingest", json=batch, headers=bearer(token))
    assert r.status_code == 401
    assert collector.get("/api/v2/checks/latest", params={"host": "web3"}).status_code == 404
    again = run_cli("hosts", "revoke", "web3", *data)
    assert again.returncode == 2 and "no ingest token" in again.stderr


def test_a_token_revoked_after_it_pushed_is_401_at_once_and_stores_nothing(collector: CheckdProcess) -> None:
    data = ("--data-dir", str(collector.data_dir))
    token = ingest_token("web9", *data)
    r = collector.post("/api/v2/ingest", json=pushed_checks("web9", [1, 2]), headers=bearer(token))
    assert r.status_code == 200, r.text  # the collector has verified (and remembers) the token
    assert run_cli("hosts", "revoke", "web9", *data).returncode == 0
    r = collector.post("/api/v2/ingest", json=pushed_checks("web9", [3, 4]), headers=bearer(token))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", r.text
    assert _stored(collector, "web9") == 2


def test_an_ingest_token_pushes_only_its_host_and_does_nothing_else(collector: CheckdProcess) -> None:
    token = ingest_token("web4", "--data-dir", str(collector.data_dir))
    batch = pushed_checks("web4", [1]) + pushed_checks("db1", [1])
    r = collector.post("/api/v2/ingest", json=batch, headers=bearer(token))
    assert r.status_code == 403 and r.json()["detail"].startswith("checks[1].host:")
    assert collector.get("/api/v2/checks/latest", params={"host": "web4"}).status_code == 404
    assert collector.post("/api/v2/sampler/stop", headers=bearer(token)).status_code == 403
    assert collector.get("/api/v2/sampler").json()["running"] is True
    dup = run_cli("hosts", "add", "web4", "--data-dir", str(collector.data_dir))
    assert dup.returncode == 2 and "already" in dup.stderr


def test_a_malformed_check_is_422_naming_its_index_and_nothing_is_stored(collector: CheckdProcess) -> None:
    token = ingest_token("web5", "--data-dir", str(collector.data_dir))
    batch = pushed_checks("web5", range(1, 6))
    batch[3]["memory"]["total"] = "lots"
    r = collector.post("/api/v2/ingest", json=batch, headers=bearer(token))
    assert r.status_code == 422
    assert r.json()["detail"] == "checks[3].memory.total: must be a number"
    batch = pushed_checks("web5", range(1, 6))
    batch[2]["services"] = {"web": "sleepy"}
    r = collector.post("/api/v2/ingest", json=batch, headers=bearer(token))
    assert r.status_code == 422 and r.json()["detail"].startswith("checks[2].services.web: must be one of")
    for body in (b"{}", b"[1,2", b'{"host": "web5"}\nnot json'):
        r = collector.post("/api/v2/ingest", content=body, headers=bearer(token))
        assert r.status_code == 422, body
    assert collector.get("/api/v2/checks/latest", params={"host": "web5"}).status_code == 404


def test_batches_over_the_limits_are_413(collector: CheckdProcess) -> None:
    token = ingest_token("web6", "--data-dir", str(collector.data_dir))
    many = pushed_checks("web6", range(1, 5002))
    r = collector.post(
        "/api/v2/ingest",
        content=gzip.compress(json.dumps(many).encode()),
        headers=bearer(token) | {"Content-Encoding": "gzip"},
    )
    assert r.status_code == 413 and "5000 checks" in r.json()["detail"]
    big = b"[" + b" " * (4 * 1024 * 1024) + b"]"
    r = collector.post("/api/v2/ingest", content=big, headers=bearer(token))
    assert r.status_code == 413
    r = collector.post("/api/v2/ingest", json=many[:5000], headers=bearer(token))
    assert r.status_code == 200 and r.json()["accepted"] == 5000


def test_a_bad_host_name_for_hosts_add_names_it(tmp_path: Path) -> None:
    done = run_cli("hosts", "add", "a b", "--data-dir", str(tmp_path))
    assert done.returncode == 2 and done.stderr.startswith("checkd: NAME:")


def test_an_action_for_a_host_whose_agent_never_polls_is_504_and_recorded(collector: CheckdProcess) -> None:
    token = ingest_token("ghost", "--data-dir", str(collector.data_dir))
    assert (
        collector.post("/api/v2/ingest", json=pushed_checks("ghost", [1]), headers=bearer(token)).status_code
        == 200
    )
    r = collector.post(
        "/api/v2/services/web/start", params={"host": "ghost", "wait": 1}, headers=collector.auth()
    )
    assert r.status_code == 504 and r.json()["detail"].startswith("host: no agent of 'ghost' took the action")
    audit = collector.get("/api/v2/actions", params={"host": "ghost"}).json()
    assert audit[0]["status"] == 504 and audit[0]["actor"] == "api" and audit[0]["service"] == "web"
    # The agent polling later does not get the expired action.
    r = collector.get("/api/v2/agents/ghost/actions", params={"wait": 0}, headers=bearer(token))
    assert r.status_code == 200 and r.json() == []
    r = collector.post("/api/v2/services/web/start", params={"host": "nobody"}, headers=collector.auth())
    assert r.status_code == 404 and r.json()["detail"].startswith("host:")


def test_an_ingest_token_polls_only_its_own_host_and_cannot_act(collector: CheckdProcess) -> None:
    token = ingest_token("web7", "--data-dir", str(collector.data_dir))
    r = collector.get("/api/v2/agents/web8/actions", params={"wait": 0}, headers=bearer(token))
    assert r.status_code == 403 and r.json()["detail"].startswith("host:")
    r = collector.post("/api/v2/services/web/start", params={"host": "web7"}, headers=bearer(token))
    assert r.status_code == 403
    r = collector.get("/api/v2/agents/web7/actions", params={"wait": 0}, headers=bearer("y" * 43))
    assert r.status_code == 401
    r = collector.post(
        "/api/v2/agents/web7/actions/99",
        json=ACTION_RESULT,
        headers=bearer(token),
    )
    assert r.status_code == 404 and r.json()["detail"].startswith("action_id:")


def test_rules_are_evaluated_for_ingested_hosts_and_a_restart_does_not_duplicate(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    config = tmp_path / "alerts.toml"
    config.write_text('[[alerts.rules]]\nname = "cpu-busy"\nmetric = "cpu_percent"\nabove = 10\nfor = "0s"\n')
    data = tmp_path / "collector"
    srv = make_server(data, args=("--config", str(config)))
    token = ingest_token("busy1", "--data-dir", str(data))
    assert (
        srv.post("/api/v2/ingest", json=pushed_checks("busy1", [1, 2]), headers=bearer(token)).status_code
        == 200
    )

    def firing() -> list[dict[str, object]]:
        items = srv.get("/api/v2/alerts", params={"host": "busy1"}).json()["items"]
        return [a for a in items if a["state"] == "firing"]

    (alert,) = srv.wait_for(firing)
    assert alert["rule"] == "cpu-busy" and alert["host"] == "busy1" and alert["value"] == 12.5
    srv.stop()
    srv.start()
    assert srv.post("/api/v2/ingest", json=pushed_checks("busy1", [3, 4]), headers=bearer(token)).json() == {
        "accepted": 2,
        "duplicates": 0,
    }
    time.sleep(2)  # the evaluator has seen the new checks
    items = srv.get("/api/v2/alerts", params={"host": "busy1"}).json()["items"]
    assert [(a["rule"], a["state"], a["id"]) for a in items] == [("cpu-busy", "firing", alert["id"])]


def test_bodies_the_fuzzer_found_are_422_not_200_or_500(collector: CheckdProcess) -> None:
    auth = collector.auth()
    r = collector.post("/api/v2/ingest", headers=auth)
    assert r.status_code == 422 and r.json()["detail"].startswith("body: missing")
    for field, value in (("host", "a\x00b"), ("host", "a\ud800b")):
        batch = pushed_checks("fuzz1", [1])
        batch[0][field] = value
        body = json.dumps(batch).encode()  # ensure_ascii: the lone surrogate travels as \\ud800
        r = collector.post(
            "/api/v2/ingest", content=body, headers=auth | {"Content-Type": "application/json"}
        )
        assert r.status_code == 422 and r.json()["detail"].startswith("checks[0].host:"), r.text
    r = collector.post(
        "/api/v2/agents/fuzz1/actions/9776137316760311808",
        json=ACTION_RESULT,
        headers=auth,
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("action_id:")
