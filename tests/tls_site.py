"""The one test helper for TLS: certificates made with the openssl CLI, and a small HTTP(S) site
on a free loopback port (pages: / says hello, /fail answers 500, /slow waits, /drip sends its body a
byte at a time)."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

HELLO = b"hello from the checkd test site"
_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_SAN = "subjectAltName=IP:127.0.0.1,DNS:localhost"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class CertPair:
    """A certificate and its key, PEM files."""

    cert: Path
    key: Path


def self_signed(where: Path, *, days: int = 1, name: str = "self") -> CertPair:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for `days`."""
    pair = CertPair(where / f"{name}.pem", where / f"{name}.key")
    _openssl(
        "req", "-x509", *_EC_KEY, "-days", str(days), "-subj", "/CN=localhost",
        "-keyout", str(pair.key), "-out", str(pair.cert), "-addext", _SAN,
    )  # fmt: skip
    return pair


def ca_signed(where: Path, *, days: int) -> tuple[CertPair, CertPair]:
    """(a test CA, a certificate for 127.0.0.1 it signed, valid for `days`)."""
    ca = self_signed(where, days=days + 10, name="ca")
    leaf = CertPair(where / "site.pem", where / "site.key")
    csr, ext = where / "site.csr", where / "site.ext"
    ext.write_text(_SAN + "\nbasicConstraints=CA:FALSE\n")
    _openssl("req", "-new", *_EC_KEY, "-subj", "/CN=127.0.0.1", "-keyout", str(leaf.key), "-out", str(csr))
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-CAcreateserial",
        "-days", str(days), "-extfile", str(ext), "-out", str(leaf.cert),
    )  # fmt: skip
    return ca, leaf


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/slow":
            time.sleep(float(parse_qs(parts.query).get("s", ["5"])[0]))
        if parts.path == "/drip":  # each byte in time, the whole body late
            self._drip(float(parse_qs(parts.query).get("s", ["0.2"])[0]))
            return
        status, body = (500, b"internal error") if parts.path == "/fail" else (200, HELLO)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, pause_s: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(HELLO)))
        self.end_headers()
        for byte in HELLO:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(pause_s)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: pytest shows failures, not access logs


class Site:
    """An HTTP site on 127.0.0.1 (HTTPS with `tls`), served by a thread until closed."""

    def __init__(self, tls: CertPair | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
        self.httpd.daemon_threads = True
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert, tls.key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        """Absolute URL of `path` on this site."""
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Site:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
