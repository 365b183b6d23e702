"""The http endpoint check: GET a URL, compare status and body, and read the TLS certificate's expiry."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkd.endpoints.lookup import BoundedLookup, Resolver, system_resolver
from checkd.endpoints.outcome import describe_error
from checkd.probes.readings import EndpointResult

if TYPE_CHECKING:
    import httpx

# The body is searched for `contains` in at most this many bytes, so a huge page costs bounded memory.
MAX_BODY_BYTES = 1 << 20


@dataclass(frozen=True)
class HttpTarget:
    """What one http check asks for."""

    name: str
    url: str
    timeout_s: float
    expect_status: int = 200
    contains: str = ""
    ca_file: Path | None = None


class HttpProbe:
    """Runs one http check; its client (and TLS context, costly to build) lives across runs. The
    whole run (name lookup, connect, TLS, response and body) ends within the target's timeout."""

    kind = "http"

    def __init__(self, target: HttpTarget, *, resolve: Resolver = system_resolver) -> None:
        import httpx  # lazily: a checkd without http checks never imports it here

        from checkd.endpoints.deadline import DeadlineTransport

        self.target = target
        context = ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)
        self._transport = DeadlineTransport(ssl_context=context, lookup=BoundedLookup(resolve))
        self._client = httpx.Client(
            transport=self._transport,
            timeout=target.timeout_s,
            trust_env=False,
            follow_redirects=True,
            headers={"User-Agent": "checkd-probe"},
        )
        self._needle = target.contains.encode()

    def run(self) -> EndpointResult:
        """One GET: up when the status is expected and the body holds `contains`; never raises."""
        started_at = time.time()
        started = time.perf_counter()
        self._transport.deadline(self.target.timeout_s)
        status: int | None = None
        expires: float | None = None
        try:
            with self._client.stream("GET", self.target.url) as response:
                status = response.status_code
                expires = _cert_expiry(response)
                found = not self._needle or self._body_holds(response)
        except Exception as exc:  # every failure of a run is its result: down, with the reason
            return EndpointResult(
                name=self.target.name,
                kind=self.kind,
                up=False,
                checked_at=started_at,
                error=describe_error(exc),
                status_code=status,
                cert_expires_at=expires,
            )
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        error = None
        if status != self.target.expect_status:
            error = f"status {status}, expected {self.target.expect_status}"
        elif not found:
            error = f"body does not contain {self.target.contains!r}"
        return EndpointResult(
            name=self.target.name,
            kind=self.kind,
            up=error is None,
            checked_at=started_at,
            latency_ms=latency_ms,
            error=error,
            status_code=status,
            cert_expires_at=expires,
        )

    def _body_holds(self, response: httpx.Response) -> bool:
        """True when the first MAX_BODY_BYTES of the body hold the needle (read no further once found)."""
        seen = b""
        keep = len(self._needle) - 1  # bytes carried over so a needle split across chunks is found
        read = 0
        for chunk in response.iter_bytes():
            seen = seen[-keep:] + chunk if keep else chunk
            if self._needle in seen:
                return True
            read += len(chunk)
            if read >= MAX_BODY_BYTES:
                return False
        return False

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()


def _cert_expiry(response: httpx.Response) -> float | None:
    """notAfter of the server's (verified) certificate as Unix s; None over plain http."""
    stream = response.extensions.get("network_stream")
    ssl_object = None if stream is None else stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    return None if not isinstance(not_after, str) else float(ssl.cert_time_to_seconds(not_after))
