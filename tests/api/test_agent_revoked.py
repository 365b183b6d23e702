"""A revoked ingest token on the agents' routes, against a real server on SQLite and on PostgreSQL.

The collector remembers a verified ingest token for a few seconds (api/authn.py); the routes an
agent calls must still refuse it from the moment `checkd hosts revoke` (another process) commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from agent_process import ACTION_RESULT, ingest_token, pushed_checks
from checkd_process import CheckdProcess, bearer, run_cli


@pytest.fixture(params=["sqlite", "postgresql"])
def collector_db(
    request: pytest.FixtureRequest, make_server: Callable[..., CheckdProcess]
) -> tuple[CheckdProcess, tuple[str, ...]]:
    """A running collector and the CLI arguments naming its database."""
    if request.param == "sqlite":
        srv = make_server(args=("--host-name", "collector"))
        db: tuple[str, ...] = ("--data-dir", str(srv.data_dir))
    else:
        db = ("--database-url", request.getfixturevalue("postgres").create_database())
        srv = make_server(interval=60, args=(*db, "--host-name", "collector"))
    srv.wait_for(lambda: srv.get("/healthz").json()["database"] == "ok")  # /healthz answers first
    return srv, db


def _remembered_token(srv: CheckdProcess, db: tuple[str, ...], host: str) -> str:
    """A new ingest token for `host` that has pushed once (so the collector remembers it)."""
    token = ingest_token(host, *db)
    r = srv.post("/api/v2/ingest", json=pushed_checks(host, [1]), headers=bearer(token))
    assert r.status_code == 200, r.text
    return token


def _revoke(db: tuple[str, ...], host: str) -> None:
    done = run_cli("hosts", "revoke", host, *db)  # another process, as an operator does it
    assert done.returncode == 0, done.stderr


def test_a_revocation_during_a_long_poll_is_401_and_the_action_stays_undelivered(
    collector_db: tuple[CheckdProcess, tuple[str, ...]],
) -> None:
    srv, db = collector_db
    token = _remembered_token(srv, db, "edge1")
    answers: dict[str, httpx.Response] = {}

    def call(key: str, method: str, path: str, **kw: object) -> None:
        with httpx.Client(base_url=srv.url(""), timeout=40, trust_env=False) as client:
            answers[key] = client.request(method, path, **kw)  # type: ignore[arg-type]

    poll = threading.Thread(
        target=call,
        args=("poll", "GET", "/api/v2/agents/edge1/actions"),
        kwargs={"params": {"wait": 30}, "headers": bearer(token)},
        daemon=True,
    )
    poll.start()
    time.sleep(1.0)  # the agent waits in its long poll
    assert "poll" not in answers
    _revoke(db, "edge1")
    queue = threading.Thread(
        target=call,
        args=("queue", "POST", "/api/v2/services/web/start"),
        kwargs={"params": {"host": "edge1", "wait": 3}, "headers": srv.auth()},
        daemon=True,
    )
    queue.start()
    poll.join(35)
    assert answers["poll"].status_code == 401, answers["poll"].text
    assert answers["poll"].headers["www-authenticate"] == "Bearer"
    assert answers["poll"].json()["detail"] == "Authorization: this token was revoked"
    queue.join(20)
    # No agent took it: the action expired where it was queued, and the audit log says so.
    assert answers["queue"].status_code == 504, answers["queue"].text
    assert "no agent of 'edge1' took the action" in answers["queue"].json()["detail"]
    audit = srv.get("/api/v2/actions", params={"host": "edge1"}).json()
    assert [(a["service"], a["status"]) for a in audit] == [("web", 504)]


def test_a_revoked_token_is_401_at_once_on_every_route_an_agent_calls(
    collector_db: tuple[CheckdProcess, tuple[str, ...]],
) -> None:
    srv, db = collector_db
    token = _remembered_token(srv, db, "edge2")
    _revoke(db, "edge2")  # well within the time the collector remembers the token
    r = srv.get("/api/v2/agents/edge2/actions", params={"wait": 0}, headers=bearer(token))
    assert r.status_code == 401 and r.json()["detail"] == "Authorization: this token was revoked", r.text
    r = srv.post("/api/v2/agents/edge2/actions/99", json=ACTION_RESULT, headers=bearer(token))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", r.text
    r = srv.post("/api/v2/ingest", json=pushed_checks("edge2", [2]), headers=bearer(token))
    assert r.status_code == 401, r.text
    # Once a route saw the revocation, the collector forgets the token: a wrong token from then on.
    r = srv.get("/api/v2/agents/edge2/actions", params={"wait": 0}, headers=bearer(token))
    assert r.status_code == 401 and r.json()["detail"] == "Authorization: wrong token", r.text
