"""HEAD on a real server: every read answers as its GET does, without a body; routes that act refuse it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checkd_process import CheckdProcess

PLAIN = {"Accept-Encoding": "identity"}
READS = [
    "/healthz",
    "/api/v2/checks/latest",
    "/api/v2/checks?limit=2",
    "/api/v2/hosts",
    "/api/v2/sampler",
    "/api/v2/history/cpu_percent?until=2030-01-01T00:00:00Z&since=2029-12-31T00:00:00Z",
    "/v1.0/checks/cpu/history?size=3",
    "/v1.0/checks/cpu/history/?size=3",
    "/v1.0/checks?limit=2",
    "/metrics",
    "/",
    "/static/vendor/uplot.min.js",
    "/openapi.json",
]


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> CheckdProcess:
    """A server with one check stored and its sampler stopped (its answers stay the same)."""
    server = CheckdProcess(tmp_path_factory.mktemp("head") / "data", interval=1)
    server.start()
    server.wait_for(lambda: server.get("/api/v2/checks/latest").status_code == 200)
    assert server.post("/api/v2/sampler/stop", headers=server.auth()).status_code == 200
    yield server  # type: ignore[misc]
    server.close()


@pytest.mark.parametrize("path", READS)
def test_head_answers_like_get_without_a_body(quiet: CheckdProcess, path: str) -> None:
    got = quiet.client.get(path, headers=PLAIN)
    head = quiet.client.head(path, headers=PLAIN)
    assert (head.status_code, got.status_code) == (200, 200), head.text
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    if path != "/metrics":  # its counters move between two requests
        assert int(head.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v2/checks?limit=0", 422), ("/api/v2/checks/99999999", 404), ("/api/v2/nothing", 404)],
)
def test_head_refuses_as_get_does(quiet: CheckdProcess, path: str, status: int) -> None:
    assert quiet.client.get(path).status_code == status
    head = quiet.client.head(path)
    assert head.status_code == status
    assert head.content == b""


@pytest.mark.parametrize(
    "path", ["/v1.0/checks/start", "/v1.0/checks/start/", "/v1.0/checks/start/httpd", "/api/v2/sampler/start"]
)
def test_head_never_acts(quiet: CheckdProcess, path: str) -> None:
    head = quiet.client.head(path, headers=quiet.auth())
    assert head.status_code == 405
    assert quiet.get("/api/v2/sampler").json()["running"] is False, f"HEAD {path} started the sampler"


def test_head_needs_the_token_where_get_does(make_server: Callable[..., CheckdProcess]) -> None:
    server = make_server(env={"CHECKD_AUTH__PROTECT_READS": "true"})
    assert server.client.get("/api/v2/checks/latest").status_code == 401
    assert server.client.head("/api/v2/checks/latest").status_code == 401
    assert server.client.head("/api/v2/sampler", headers=server.auth()).status_code == 200
