"""TLS: served by uvicorn from [server] tls_cert/tls_key; plain HTTP off loopback is refused at start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from checkd.cli.server import is_loopback, transport_refusal
from checkd.config import ServerSettings
from checkd_process import CheckdProcess, run_cli
from tls_site import self_signed


@pytest.fixture
def cert_pair(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made by the openssl CLI for this test."""
    pair = self_signed(tmp_path)
    return pair.cert, pair.key


def test_the_api_is_served_over_tls_and_verified_against_the_test_ca(
    make_server: Callable[..., CheckdProcess], cert_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = cert_pair
    server = make_server(
        env={"CHECKD_SERVER__TLS_CERT": str(cert), "CHECKD_SERVER__TLS_KEY": str(key)}, tls_ca=cert
    )
    assert server.url("").startswith("https://")
    assert server.get("/healthz").json()["status"] in ("ok", "degraded")
    r = server.post("/api/v2/sampler/stop", headers=server.auth())
    assert r.status_code == 200
    assert r.json()["running"] is False
    # A client that does not trust the certificate is refused by the TLS handshake.
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as untrusting:
        untrusting.get(server.url("/healthz"))
    # Plain HTTP on the TLS port gets no API answer.
    with pytest.raises(httpx.TransportError), httpx.Client(trust_env=False) as plain:
        plain.get(f"http://127.0.0.1:{server.port}/healthz")
    # An idle keep-alive TLS connection holds uvicorn's graceful shutdown (up to 15 s): hang up first.
    server.client.close()
    assert server.stop() == 0


def test_binding_a_non_loopback_address_without_tls_is_refused_in_one_line(tmp_path: Path) -> None:
    proc = run_cli(
        "serve", "--data-dir", str(tmp_path / "data"), "--host", "0.0.0.0", "--port", "1", timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "server.host" in lines[0] and "server.tls_cert" in lines[0] and "allow_plaintext" in lines[0]
    assert not (tmp_path / "data" / "checkd.db").exists()  # refused before anything was opened


def test_an_unreadable_certificate_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {
        "CHECKD_SERVER__TLS_CERT": str(tmp_path / "no.pem"),
        "CHECKD_SERVER__TLS_KEY": str(tmp_path / "no.key"),
    }
    proc = run_cli("serve", "--data-dir", str(tmp_path / "data"), "--port", "1", env=env, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "server.tls_cert" in lines[0], proc.stderr


def test_a_certificate_without_its_key_is_a_config_error(
    tmp_path: Path, cert_pair: tuple[Path, Path]
) -> None:
    proc = run_cli(
        "serve", "--data-dir", str(tmp_path / "data"), env={"CHECKD_SERVER__TLS_CERT": str(cert_pair[0])}
    )
    assert proc.returncode == 2
    assert "tls_key" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.0.2.10", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plaintext_off_loopback_is_allowed_only_when_said(cert_pair: tuple[Path, Path]) -> None:
    assert transport_refusal(ServerSettings(host="0.0.0.0")) is not None
    assert transport_refusal(ServerSettings(host="0.0.0.0", allow_plaintext=True)) is None
    cert, key = cert_pair
    assert transport_refusal(ServerSettings(host="0.0.0.0", tls_cert=cert, tls_key=key)) is None
    assert transport_refusal(ServerSettings(host="127.0.0.1")) is None
