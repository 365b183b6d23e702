"""Bad input against one real `checkd serve`: every case is a 4xx JSON error naming the parameter.

None of these may produce a 500 or a traceback in the body.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkd_process import CheckdProcess

BAD_NUMBERS = ["-1", "10001", "abc", "", "1e30"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CheckdProcess]:
    """One server per database kind for the whole module (stopped by pid at the end)."""
    data_dir: Path = tmp_path_factory.mktemp("bad-input") / "data"
    args: tuple[str, ...] = ()
    if request.param == "postgresql":
        args = ("--database-url", request.getfixturevalue("postgres").create_database())
    # This module sends dozens of wrong tokens on purpose; keep them under the 429 threshold.
    server = CheckdProcess(data_dir, args=args, env={"CHECKD_AUTH__FAILURE_LIMIT": "100000"})
    try:
        server.start()
        # At least one stored check, so reads go through the whole path, not an empty shortcut.
        server.wait_for(lambda: server.get("/api/v2/checks?limit=1").json().get("items"))
        yield server
    finally:
        server.close()


def error_detail(r: httpx.Response, status: int) -> str:
    """Assert `r` is a JSON error with `status` and no traceback; return its detail string."""
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}"
    assert "Traceback" not in r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: Any = r.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str), body
    return str(body["detail"])


def cursor_of(raw: str) -> str:
    """A cursor in the API's encoding (urlsafe base64 without padding) around `raw`."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_cpu_history_bad_size_is_422_naming_size(srv: CheckdProcess, value: str) -> None:
    r = srv.get("/v1.0/checks/cpu/history", params={"size": value})
    assert "size" in error_detail(r, 422)


@pytest.mark.parametrize("path", ["/v1.0/checks/", "/v1.0/checks", "/api/v2/checks"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_checks_bad_limit_is_422_naming_limit(srv: CheckdProcess, path: str, value: str) -> None:
    r = srv.get(path, params={"limit": value})
    assert "limit" in error_detail(r, 422)


@pytest.mark.parametrize("path", ["/nope", "/v1.0/nope", "/api/v2/nope", "/api/v3/checks"])
def test_unknown_route_is_404_json(srv: CheckdProcess, path: str) -> None:
    error_detail(srv.get(path), 404)


MUTATING = [
    ("POST", "/api/v2/sampler/start", None),
    ("POST", "/api/v2/sampler/stop", None),
    ("PUT", "/api/v2/sampler", {"interval_s": 5}),
    ("GET", "/v1.0/checks/start", None),
    ("GET", "/v1.0/checks/stop", None),
    ("GET", "/v1.0/checks/start/", None),
    ("GET", "/v1.0/checks/stop/", None),
    ("GET", "/v1.0/checks/start/httpd", None),
    ("GET", "/v1.0/checks/stop/httpd", None),
    ("POST", "/api/v2/services/httpd/start", None),
    ("POST", "/api/v2/services/httpd/stop", None),
    ("POST", "/api/v2/services/httpd/restart", None),
]
BAD_AUTH = {
    "missing": {},
    "wrong": {"Authorization": "Bearer not-the-token"},
    "empty bearer": {"Authorization": "Bearer"},
    "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
}


@pytest.mark.parametrize("auth", list(BAD_AUTH), ids=list(BAD_AUTH))
@pytest.mark.parametrize(("method", "path", "body"), MUTATING, ids=[f"{m} {p}" for m, p, _ in MUTATING])
def test_mutating_route_without_the_token_is_401(
    srv: CheckdProcess, method: str, path: str, body: Any, auth: str
) -> None:
    before = srv.get("/api/v2/sampler").json()
    r = srv.client.request(method, path, json=body, headers=BAD_AUTH[auth])
    error_detail(r, 401)
    assert r.headers.get("www-authenticate") == "Bearer"
    after = srv.get("/api/v2/sampler").json()
    assert (after["running"], after["interval_s"]) == (before["running"], before["interval_s"])


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "EVIL.example", "127.0.0.1.evil.example"]
)
@pytest.mark.parametrize("path", ["/healthz", "/api/v2/checks", "/docs", "/v1.0/checks/start"])
def test_foreign_host_header_is_400_json(srv: CheckdProcess, host: str, path: str) -> None:
    r = srv.get(path, headers={"Host": host})
    detail = error_detail(r, 400)
    assert "Host" in detail


@pytest.mark.parametrize(
    "cursor",
    [
        "zzz",
        "!!!",
        cursor_of("abc"),
        cursor_of("1:2:3"),
        cursor_of("x:1"),
        cursor_of("\u00e9:1"),
        "%00",
        "a" * 200,
    ],
)
def test_bad_cursor_is_422_naming_cursor(srv: CheckdProcess, cursor: str) -> None:
    r = srv.get("/api/v2/checks", params={"cursor": cursor})
    assert "cursor" in error_detail(r, 422)


@pytest.mark.parametrize(
    "raw",
    ["99999999999999999999999:1", "1:99999999999999999999999", "-99999999999999999999999:1"],
)
def test_cursor_with_out_of_range_numbers_is_422_not_500(srv: CheckdProcess, raw: str) -> None:
    """A cursor that decodes to integers SQLite cannot hold must be refused, not crash the query."""
    r = srv.get("/api/v2/checks", params={"cursor": cursor_of(raw)})
    assert "cursor" in error_detail(r, 422)


def test_cursor_too_long_is_422_naming_cursor(srv: CheckdProcess) -> None:
    r = srv.get("/api/v2/checks", params={"cursor": "a" * 201})
    assert "cursor" in error_detail(r, 422)


def test_since_after_until_is_422_naming_since(srv: CheckdProcess) -> None:
    r = srv.get("/api/v2/checks", params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"})
    assert "since" in error_detail(r, 422)


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "1e30", ""])
def test_bad_time_is_422_naming_it(srv: CheckdProcess, param: str, value: str) -> None:
    r = srv.get("/api/v2/checks", params={param: value})
    assert param in error_detail(r, 422)


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", ["0.5", "0", "1700000000", "-3", "nan"])
@pytest.mark.parametrize("path", ["/api/v2/checks", "/api/v2/history/cpu_percent"])
def test_numeric_time_is_422_naming_it(srv: CheckdProcess, path: str, param: str, value: str) -> None:
    """The schema says date-time: a Unix number is refused, not read as seconds since 1970."""
    r = srv.get(path, params={param: value})
    detail = error_detail(r, 422)
    assert param in detail and "ISO 8601" in detail


@pytest.mark.parametrize("value", [0, 86401, "x", -5, 1.5, None, True, False, "5", "5.0", [5], {"s": 5}])
def test_put_sampler_bad_interval_is_422_naming_interval_s(srv: CheckdProcess, value: Any) -> None:
    before = srv.get("/api/v2/sampler").json()["interval_s"]
    r = srv.client.put("/api/v2/sampler", json={"interval_s": value}, headers=srv.auth())
    assert "interval_s" in error_detail(r, 422)
    assert srv.get("/api/v2/sampler").json()["interval_s"] == before


def test_put_sampler_interval_is_a_json_integer(srv: CheckdProcess) -> None:
    """JSON Schema's integer includes 7.0 (schemathesis sends it); booleans and strings are refused."""
    r = srv.client.put("/api/v2/sampler", json={"interval_s": 7.0}, headers=srv.auth())
    assert r.status_code == 200 and r.json()["interval_s"] == 7
    srv.client.put("/api/v2/sampler", json={"interval_s": 1}, headers=srv.auth())


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"interval": 5}'])
def test_put_sampler_bad_body_is_422(srv: CheckdProcess, body: bytes) -> None:
    headers = {**srv.auth(), "Content-Type": "application/json"}
    r = srv.client.put("/api/v2/sampler", content=body, headers=headers)
    error_detail(r, 422)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",
        b'{"interval_s": "\xff"}',
        b"\x80abc",
        b'{"interval_s": 5}\xc3\x28',
        b"{x",
        b'{"interval_s": 5',
        b"[" * 100000,
    ],
    ids=["ff", "ff-in-string", "continuation", "bad-utf8-tail", "bad-json", "truncated", "deep-nesting"],
)
def test_put_sampler_undecodable_body_is_422_naming_body(srv: CheckdProcess, body: bytes) -> None:
    headers = {**srv.auth(), "Content-Type": "application/json"}
    r = srv.client.put("/api/v2/sampler", content=body, headers=headers)
    detail = error_detail(r, 422)
    assert detail.startswith("body: "), detail


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v2/sampler", "GET, HEAD, PUT"),
        ("/api/v2/checks", "GET, HEAD"),
        ("/api/v2/sampler/start", "POST"),
        ("/api/v2/services/httpd/restart", "POST"),
        ("/v1.0/checks/start", "GET"),  # it acts: no HEAD
        ("/static/vendor/nope.js", "GET, HEAD"),
    ],
)
@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "PATCH"])
def test_unsupported_method_is_405_with_the_routes_real_methods(
    srv: CheckdProcess, method: str, path: str, allow: str
) -> None:
    """RFC 9110 15.5.6: a 405 carries Allow listing what the resource supports (all routes at the path)."""
    r = srv.client.request(method, path)
    detail = error_detail(r, 405)
    assert r.headers["allow"] == allow
    assert method in detail


@pytest.mark.parametrize("path", ["/api/v2/checks", "/api/v2/checks/latest"])
def test_unknown_host_is_404_naming_host(srv: CheckdProcess, path: str) -> None:
    r = srv.get(path, params={"host": "no-such-host.example"})
    detail = error_detail(r, 404)
    assert "host" in detail
    assert "no-such-host.example" in detail


@pytest.mark.parametrize("value", ["0", "-1", "abc", str(2**63), "1e3"])
def test_bad_check_id_is_422_naming_check_id(srv: CheckdProcess, value: str) -> None:
    r = srv.get(f"/api/v2/checks/{value}")
    assert "check_id" in error_detail(r, 422)


def test_missing_check_id_is_404_naming_check_id(srv: CheckdProcess) -> None:
    r = srv.get(f"/api/v2/checks/{2**62}")
    assert "check_id" in error_detail(r, 404)


@pytest.mark.parametrize("name", ["nope", "%2e%2e", "a" * 100, "httpd;reboot", "httpd%20x"])
def test_unknown_service_is_404_naming_name(srv: CheckdProcess, name: str) -> None:
    r = srv.get(f"/api/v2/services/{name}")
    assert "name" in error_detail(r, 404)


def test_service_name_too_long_is_422(srv: CheckdProcess) -> None:
    r = srv.get(f"/api/v2/services/{'a' * 101}")
    assert "name" in error_detail(r, 422)


def test_unknown_service_action_is_422_naming_action(srv: CheckdProcess) -> None:
    r = srv.post("/api/v2/services/httpd/explode", headers=srv.auth())
    assert "action" in error_detail(r, 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/api/v2/checks"), ("POST", "/v1.0/checks/"), ("GET", "/api/v2/sampler/start")],
)
def test_wrong_method_is_405_json(srv: CheckdProcess, method: str, path: str) -> None:
    error_detail(srv.client.request(method, path), 405)


def test_server_survived_the_bad_input(srv: CheckdProcess) -> None:
    health = srv.get("/healthz")
    assert health.status_code == 200
    assert health.json()["sampler"] == "running"
