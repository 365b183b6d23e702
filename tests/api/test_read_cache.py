"""The response cache on a real server: routes that declare it answer the same until the next stored check.

Checks are written straight into the server's SQLite file (as another process of a fleet would):
the server does not see those writes, so a cached answer stays as it was, and an uncached one
shows them at once. A check the server's own sampler stores drops the cache."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from checkd import store
from checkd.db import make_engine
from checkd.probes import Check
from checkd_process import CheckdProcess

HERE = "here"
PLAIN = {"Accept-Encoding": "identity"}  # bodies over 1 KiB would be gzipped, and those are never kept


def _write(server: CheckdProcess, host: str, taken_at: int, cpu: float) -> int:
    """Store one check for `host` behind the server's back; its id."""
    engine = make_engine(f"sqlite:///{server.data_dir / 'checkd.db'}")
    try:
        with engine.begin() as conn:
            return store.insert_checks(
                conn=conn, host=host, items=[Check(taken_at=taken_at, cpu=cpu, memory=None, load=None)]
            )[0]
    finally:
        engine.dispose()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


@pytest.fixture
def quiet(make_server: Callable[..., CheckdProcess]) -> CheckdProcess:
    """A server named `here` whose sampler does not run (nothing drops its cache on its own)."""
    server = make_server(env={"CHECKD_SAMPLER__AUTOSTART": "false"}, args=("--host-name", HERE))
    now = int(time.time())
    _write(server, HERE, now - 30, 10.0)
    _write(server, "peer", now - 30, 10.0)
    return server


def _body(server: CheckdProcess, path: str, params: dict[str, Any] | None = None) -> Any:
    r = server.get(path, params=params, headers=PLAIN)
    assert r.status_code == 200, r.text
    return r.json()


def test_declared_routes_answer_the_same_until_the_next_stored_check(quiet: CheckdProcess) -> None:
    until = _iso(time.time() + 60)
    reads: list[tuple[str, dict[str, Any] | None]] = [
        ("/api/v2/checks/latest", None),
        ("/api/v2/checks", {"limit": 1}),
        ("/v1.0/checks/cpu/history", {"size": 2}),
        ("/v1.0/checks/cpu/history/", {"size": 2}),  # the slash variant declares it too
        ("/v1.0/checks/", {"limit": 2}),
        ("/api/v2/history/cpu_percent", {"since": _iso(time.time() - 120), "until": until, "points": 500}),
    ]
    before = [_body(quiet, path, params) for path, params in reads]
    _write(quiet, HERE, int(time.time()) - 5, 99.0)
    for (path, params), seen in zip(reads, before, strict=True):
        assert _body(quiet, path, params) == seen, f"{path} {params} was read again before a stored check"

    r = quiet.post("/api/v2/sampler/start", headers=quiet.auth())
    assert r.status_code == 200, r.text
    newest = quiet.wait_for(
        lambda: (b := _body(quiet, "/api/v2/checks/latest"))["taken_at"] != before[0]["taken_at"] and b
    )
    assert newest["cpu"] != 99.0 or newest["taken_at"] > before[0]["taken_at"]
    assert 99.0 in [p["cpu"] for p in _body(quiet, "/v1.0/checks/cpu/history", {"size": 3})]


def test_reads_of_other_hosts_and_moving_ranges_are_never_kept(quiet: CheckdProcess) -> None:
    since = _iso(time.time() - 120)
    reads: list[tuple[str, dict[str, Any]]] = [
        ("/api/v2/checks/latest", {"host": "peer"}),
        ("/api/v2/checks", {"host": "peer", "limit": 1}),
        ("/api/v2/history/cpu_percent", {"since": since, "points": 500}),  # until: now, moves
        ("/api/v2/history/cpu_percent", {"host": "peer", "since": since, "until": _iso(time.time() + 60)}),
    ]
    before = [_body(quiet, path, params) for path, params in reads]
    now = int(time.time())
    _write(quiet, "peer", now - 5, 77.0)
    _write(quiet, HERE, now - 5, 77.0)
    for (path, params), seen in zip(reads, before, strict=True):
        assert _body(quiet, path, params) != seen, f"{path} {params} answered from the cache"


def test_a_check_by_id_is_not_kept(quiet: CheckdProcess) -> None:
    check_id = _write(quiet, "peer", int(time.time()) - 5, 55.0)
    assert _body(quiet, f"/api/v2/checks/{check_id}")["cpu"] == 55.0
    engine = make_engine(f"sqlite:///{quiet.data_dir / 'checkd.db'}")
    try:
        with engine.begin() as conn:
            store.delete_checks_before(conn=conn, host="peer", cutoff=int(time.time()) + 1)
    finally:
        engine.dispose()
    assert quiet.get(f"/api/v2/checks/{check_id}").status_code == 404


def test_a_gzipped_answer_is_not_kept_for_plain_clients(quiet: CheckdProcess) -> None:
    now = int(time.time())
    for i in range(20):
        _write(quiet, HERE, now - 25 + i, float(i))
    zipped = quiet.get("/api/v2/checks", params={"limit": 20}, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("content-encoding") == "gzip"
    plain = quiet.get("/api/v2/checks", params={"limit": 20}, headers=PLAIN)
    assert "content-encoding" not in plain.headers
    assert plain.json() == zipped.json()
