"""The OpenAPI document, the offline docs pages, and a schemathesis run over every read route."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from checkd_process import CheckdProcess

# Examples per operation: valid requests, then invalid ones; the whole run stays well under 60 s.
MAX_EXAMPLES = {"positive": 30, "negative": 15}
SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
# Service actions start and stop the machine's apache2, silences and test notifications act on alerts:
# they have their own tests (test_services.py, tests/alerts, tests/notify).
# agents/: a long poll holds its answer up to `wait` s, longer than the fuzzer's timeout.
NOT_FUZZED = (
    r"services/\{name\}/\{action\}|/(start|stop)/httpd|alerts/\{alert_id\}/silence|notify/test"
    r"|agents/\{host\}/actions"
)
URL_RE = re.compile(r"""https?://[^\s"'<>)\\]+""")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CheckdProcess]:
    """One server for the module, with a few stored checks (stopped by pid at the end)."""
    # The fuzz run below tries wrong tokens on purpose (ignored_auth): keep them under the 429 limit.
    server = CheckdProcess(
        tmp_path_factory.mktemp("openapi") / "data", env={"CHECKD_AUTH__FAILURE_LIMIT": "100000"}
    )
    try:
        server.start()
        server.wait_for(lambda: len(server.get("/api/v2/checks?limit=3").json()["items"]) >= 2)
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def spec(srv: CheckdProcess) -> dict[str, Any]:
    r = srv.get("/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield method, path, op


def is_read(op: dict[str, Any], method: str) -> bool:
    """A read route: GET and no 401 documented (the v1.0 GET start/stop routes mutate and need a token)."""
    return method == "get" and "401" not in op.get("responses", {})


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def is_typed(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True when a JSON schema says what it is (a type, a $ref to one, or a union of typed schemas)."""
    schema = resolve(spec, schema)
    if "type" in schema or "enum" in schema or "const" in schema:
        return True
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return all(is_typed(spec, s) for s in schema[key])
    return False


# -- the document ---------------------------------------------------------------------------------
def test_openapi_document_validates_as_openapi_3(spec: dict[str, Any]) -> None:
    assert str(spec["openapi"]).startswith("3.")
    # schemathesis validates against the official OpenAPI 3.0/3.1 meta-schemas (jsonschema_rs).
    schemathesis.openapi.from_dict(spec).validate()


def test_contract_routes_are_documented(spec: dict[str, Any]) -> None:
    documented = {(m, p) for m, p, _ in operations(spec)}
    for route in [
        ("get", "/v1.0/checks/"),
        ("get", "/v1.0/checks/cpu/history"),
        ("get", "/v1.0/checks/start"),
        ("get", "/v1.0/checks/stop"),
        ("get", "/api/v2/checks"),
        ("get", "/api/v2/checks/latest"),
        ("get", "/api/v2/checks/{check_id}"),
        ("get", "/api/v2/sampler"),
        ("put", "/api/v2/sampler"),
        ("post", "/api/v2/sampler/start"),
        ("post", "/api/v2/sampler/stop"),
        ("get", "/healthz"),
        ("get", "/api/v2/alerts"),
        ("get", "/api/v2/alerts/rules"),
        ("post", "/api/v2/alerts/{alert_id}/silence"),
        ("get", "/api/v2/notifications"),
        ("post", "/api/v2/notify/test"),
    ]:
        assert route in documented, f"{route} is not in the OpenAPI document"


def test_every_route_has_typed_responses(spec: dict[str, Any]) -> None:
    problems = []
    for method, path, op in operations(spec):
        responses = op.get("responses", {})
        if not any(code.startswith("2") for code in responses):
            problems.append(f"{method.upper()} {path}: no 2xx response documented")
        for code, raw_response in responses.items():
            response = resolve(spec, raw_response)
            content = response.get("content", {})
            if path == "/metrics" and code.startswith("2"):
                if not content:
                    problems.append(f"{method.upper()} {path} {code}: no content type")
                continue
            schema = content.get("application/json", {}).get("schema")
            if not schema or not is_typed(spec, schema):
                problems.append(f"{method.upper()} {path} {code}: untyped response {response}")
    assert not problems, "\n".join(problems)


def test_errors_are_documented_as_error_bodies(spec: dict[str, Any]) -> None:
    """Routes with parameters document 422; token routes document 401; both as `{"detail"}`."""
    problems = []
    for method, path, op in operations(spec):
        responses = op.get("responses", {})
        if (op.get("parameters") or op.get("requestBody")) and "422" not in responses:
            problems.append(f"{method.upper()} {path}: 422 not documented")
        if not is_read(op, method) and path != "/healthz" and "401" not in responses:
            problems.append(f"{method.upper()} {path}: mutating route without 401")
        for code in ("401", "422"):
            if code in responses:
                schema = resolve(spec, responses[code]["content"]["application/json"]["schema"])
                if "detail" not in schema.get("properties", {}):
                    problems.append(f"{method.upper()} {path} {code}: body has no `detail`")
    assert not problems, "\n".join(problems)


def test_database_body_and_auth_errors_are_documented(spec: dict[str, Any]) -> None:
    """503 wherever the database is used, 413 wherever a body is read, 403/429 wherever a token is."""
    problems = []
    for method, path, op in operations(spec):
        responses = op.get("responses", {})
        needed = set()
        if path not in ("/healthz", "/metrics"):
            needed.add("503")
        if op.get("requestBody"):
            needed.add("413")
        if "401" in responses:
            needed |= {"403", "429"}
        problems += [f"{method.upper()} {path}: {code} not documented" for code in needed - set(responses)]
    assert not problems, "\n".join(problems)


def test_every_parameter_is_typed_and_described(spec: dict[str, Any]) -> None:
    problems = []
    for method, path, op in operations(spec):
        for raw_param in op.get("parameters", []):
            param = resolve(spec, raw_param)
            where = f"{method.upper()} {path} {param['in']}:{param['name']}"
            if not is_typed(spec, param.get("schema", {})):
                problems.append(f"{where}: untyped")
            if not (param.get("description") or param.get("schema", {}).get("description")):
                problems.append(f"{where}: no description")
        body = op.get("requestBody")
        if body is not None:
            schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            if not is_typed(spec, schema):
                problems.append(f"{method.upper()} {path}: untyped request body")
    assert not problems, "\n".join(problems)


# -- offline docs ---------------------------------------------------------------------------------
class _Refs(HTMLParser):
    """Collects every URL-ish attribute (src, href, spec-url, ...) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name in ("src", "href", "spec-url", "data-src") or name.endswith("-url")):
                self.refs.append(value)


def _foreign_urls(text: str, own: set[str]) -> list[str]:
    return [u for u in URL_RE.findall(text) if urlsplit(u).netloc not in own]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_assets_are_all_served_by_checkd(srv: CheckdProcess, page: str) -> None:
    r = srv.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    own = {f"127.0.0.1:{srv.port}", f"localhost:{srv.port}"}
    assert _foreign_urls(r.text, own) == [], f"{page} refers to another host (a CDN?)"

    parser = _Refs()
    parser.feed(r.text)
    # Swagger UI loads the schema from a `url:` in its inline script, ReDoc from `spec-url`.
    refs = parser.refs + re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", r.text)
    assets = [a for a in refs if not a.startswith(("data:", "#", "javascript:"))]
    assert any(a.endswith(".js") for a in assets), f"{page} references no script: {refs}"
    assert "/openapi.json" in assets
    for asset in assets:
        url = urljoin(srv.url(page), asset)
        assert urlsplit(url).netloc in own, f"{page}: {asset} is not served by checkd"
        got = srv.client.get(url)
        assert got.status_code == 200, f"{page}: {asset} -> {got.status_code}"
        assert got.content, f"{page}: {asset} is empty"
        if asset.endswith(".css"):
            # A stylesheet must not pull fonts or images from elsewhere either.
            css_urls = re.findall(r"""url\(\s*['"]?([^'")]+)""", got.text)
            remote = [u for u in css_urls if not u.startswith("data:") and urlsplit(u).netloc]
            assert remote == [], f"{asset} loads {remote}"


def test_tags_list_v2_first_and_the_v1_compatibility_routes_last(spec: dict[str, Any]) -> None:
    tags = spec["tags"]
    v1 = {op["tags"][0] for _, path, op in operations(spec) if path.startswith("/v1.0/")}
    assert [t["name"] for t in tags[-len(v1) :]] == sorted(v1)
    assert all("compatibility" in t["description"] for t in tags[-len(v1) :])
    assert tags[0]["name"] == "checks"
    used = {t for _, _, op in operations(spec) for t in op.get("tags", [])}
    assert {t["name"] for t in tags} == used  # every tag listed, once
    assert len(tags) == len(used)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_tell_the_browser_to_load_from_checkd_only(srv: CheckdProcess, page: str) -> None:
    policy = srv.get(page).headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "http" not in policy


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_accept_a_query_string(srv: CheckdProcess, page: str) -> None:
    assert srv.get(page, params={"x": "1"}).status_code == 200


# -- schemathesis over every read route ------------------------------------------------------------
def fuzz(
    op: Any,
    mode: schemathesis.GenerationMode,
    base: str,
    session: requests.Session,
    server_errors: list[str],
    nonconforming: list[str],
) -> None:
    """Send generated requests for `op`; record 5xx answers and schema mismatches."""

    @settings(
        max_examples=MAX_EXAMPLES[mode.value],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base, session=session, timeout=20)
        where = f"{case.method} {response.request.url} ({mode.value})"
        if response.status_code >= 500:
            server_errors.append(f"{where}: {response.status_code} {response.text[:200]}")
            return
        assert "Traceback" not in response.text, where
        if mode is schemathesis.GenerationMode.POSITIVE:
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except Exception as exc:  # collect every mismatch, report them together
                nonconforming.append(f"{where}: {str(exc).splitlines()[0]}")

    run()


def test_schemathesis_finds_no_server_error_on_read_routes(srv: CheckdProcess, spec: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(spec)
    base = srv.url("")
    session = requests.Session()
    session.trust_env = False  # loopback only, never a proxy
    server_errors: list[str] = []
    nonconforming: list[str] = []
    tested: list[str] = []
    started = time.monotonic()

    for result in schema.get_all_operations():
        op = result.ok()
        raw = spec["paths"][op.path][op.method.lower()]
        if not is_read(raw, op.method.lower()):
            continue
        tested.append(f"{op.method.upper()} {op.path}")
        modes = [schemathesis.GenerationMode.POSITIVE]
        if raw.get("parameters"):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:
            fuzz(op, mode, base, session, server_errors, nonconforming)

    assert len(tested) >= 8, tested
    assert "GET /v1.0/checks/cpu/history" in tested
    assert "GET /v1.0/checks/start" not in tested  # mutating GETs are not read routes
    assert server_errors == [], "\n".join(server_errors[:20])
    assert nonconforming == [], "\n".join(nonconforming[:20])
    assert time.monotonic() - started < 90
    assert srv.get("/healthz").status_code == 200


def test_schemathesis_checks_all_reports_nothing_on_read_and_sampler_routes(
    srv: CheckdProcess, spec: dict[str, Any], tmp_path: Path
) -> None:
    """The issue's fuzz run: `schemathesis run --checks all` over every read and sampler route."""
    expected = [(m, p) for m, p, _ in operations(spec) if not re.search(NOT_FUZZED, p)]
    assert ("put", "/api/v2/sampler") in expected and ("get", "/v1.0/checks/stop") in expected
    cli = Path(sys.executable).with_name("schemathesis")
    proc = subprocess.run(
        [
            str(cli), "--config-file", str(SCHEMATHESIS_CONFIG), "run", srv.url("/openapi.json"),
            "--checks", "all", "--header", f"Authorization: Bearer {srv.token}",
            "--exclude-path-regex", NOT_FUZZED, "--max-examples", "30", "--generation-deterministic",
            "--request-timeout", "20", "--no-color",
        ],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "No issues found" in out, out[-3000:]
    assert f"Tested: {len(expected)}" in out, out[-3000:]
    assert srv.get("/healthz").status_code == 200
