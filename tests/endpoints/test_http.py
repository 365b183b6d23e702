"""The http endpoint check against real local sites: TLS days left, a 500 page, a refused port,
a self-signed certificate, a body substring, a host that does not resolve, a timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from checkd.endpoints.http import HttpProbe, HttpTarget
from checkd.probes.readings import EndpointResult
from checkd_process import free_port
from tls_site import HELLO, Site, ca_signed, self_signed


def run_http(
    url: str,
    *,
    timeout_s: float = 5.0,
    expect_status: int = 200,
    contains: str = "",
    ca_file: Path | None = None,
) -> EndpointResult:
    """One run of an http check of `url`."""
    target = HttpTarget(
        "site", url, timeout_s, expect_status=expect_status, contains=contains, ca_file=ca_file
    )
    probe = HttpProbe(target)
    try:
        return probe.run()
    finally:
        probe.close()


def test_https_with_a_trusted_certificate_is_up_and_tells_the_days_left(tmp_path: Path) -> None:
    ca, leaf = ca_signed(tmp_path, days=30)
    with Site(tls=leaf) as site:
        result = run_http(site.url("/"), ca_file=ca.cert, contains="checkd test site")
    assert result.up, result.error
    assert (result.kind, result.status_code, result.error) == ("http", 200, None)
    assert result.latency_ms is not None and 0 < result.latency_ms < 5000
    assert result.cert_expires_at is not None
    days_left = (result.cert_expires_at - time.time()) / 86400
    assert 29 < days_left <= 30  # openssl starts the certificate now and ends it 30 days on


def test_a_500_page_is_down_with_its_status(tmp_path: Path) -> None:
    with Site() as site:
        result = run_http(site.url("/fail"))
    assert not result.up
    assert result.status_code == 500
    assert result.error == "status 500, expected 200"
    assert result.cert_expires_at is None  # plain http has no certificate


def test_an_expected_500_is_up(tmp_path: Path) -> None:
    with Site() as site:
        assert run_http(site.url("/fail"), expect_status=500).up


def test_a_body_without_the_substring_is_down_and_with_it_up() -> None:
    with Site() as site:
        assert run_http(site.url("/"), contains=HELLO.decode()[-9:]).up
        missing = run_http(site.url("/"), contains="not on the page")
    assert not missing.up and missing.status_code == 200
    assert missing.error == "body does not contain 'not on the page'"


def test_a_port_that_refuses_is_down_with_the_reason() -> None:
    result = run_http(f"http://127.0.0.1:{free_port()}/")
    assert not result.up
    assert result.error == "connection refused"
    assert result.latency_ms is None and result.status_code is None


def test_a_self_signed_certificate_is_the_probes_error_not_a_crash(tmp_path: Path) -> None:
    with Site(tls=self_signed(tmp_path, days=5)) as site:
        result = run_http(site.url("/"))  # verified against the system's CAs: not trusted
    assert not result.up
    assert result.error is not None and result.error.startswith("TLS certificate not valid: ")
    assert "self-signed" in result.error or "self signed" in result.error


def test_a_host_that_does_not_resolve_is_down_with_the_reason() -> None:
    result = run_http("http://no-such-host.invalid/")
    assert not result.up
    assert result.error is not None and result.error.startswith("cannot resolve host: ")


def test_a_page_slower_than_the_timeout_is_down_after_the_timeout() -> None:
    with Site() as site:
        started = time.monotonic()
        result = run_http(site.url("/slow?s=5"), timeout_s=1)
        took = time.monotonic() - started
    assert not result.up and result.error == "read timed out"
    assert 0.9 < took < 3


def test_a_body_that_trickles_past_the_timeout_is_down_after_the_timeout() -> None:
    """Each byte comes within the read timeout, the whole body does not: the check still ends."""
    with Site() as site:
        started = time.monotonic()
        result = run_http(site.url("/drip?s=0.2"), timeout_s=1, contains="not on the page")
        took = time.monotonic() - started
    assert not result.up and result.error == "read timed out"
    assert 0.9 < took < 1.6


class HangingResolver:
    """A name lookup that answers only when released (a resolver that hangs); no packet is sent."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        self.release.wait(30)
        return ["127.0.0.1"]


def test_a_name_lookup_that_hangs_ends_with_the_timeout_and_holds_one_thread() -> None:
    resolver = HangingResolver()
    probe = HttpProbe(HttpTarget("site", "http://hangs.test/", 1.0), resolve=resolver)
    try:
        started = time.monotonic()
        result = probe.run()
        took = time.monotonic() - started
        assert not result.up and result.error == "name lookup of hangs.test timed out"
        assert 0.9 < took < 1.5
        again = probe.run()  # the first lookup still hangs: no second thread, down at once
        assert again.error == "name lookup of hangs.test still running since an earlier run"
        assert resolver.asked == ["hangs.test"]
    finally:
        resolver.release.set()
        probe.close()


def test_a_resolved_name_is_verified_against_the_certificate_not_its_address(tmp_path: Path) -> None:
    ca, leaf = ca_signed(tmp_path, days=30)  # for 127.0.0.1 and localhost

    def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    with Site(tls=leaf) as site:
        for name, up in (("localhost", True), ("elsewhere.test", False)):
            target = HttpTarget("site", f"https://{name}:{site.port}/", 5.0, ca_file=ca.cert)
            probe = HttpProbe(target, resolve=loopback)
            try:
                result = probe.run()
            finally:
                probe.close()
            assert result.up is up, (name, result.error)
            if not up:
                assert result.error is not None and "TLS certificate not valid" in result.error
