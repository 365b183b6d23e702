"""An httpx transport whose every step (name lookup, connect, TLS, each read and write) ends by one
deadline, so a whole http check, redirects included, takes at most its timeout."""

from __future__ import annotations

import ssl
import time
import typing
from collections.abc import Iterable, Iterator

import httpcore
import httpx

from checkd.endpoints.lookup import BoundedLookup

_Timeout = type[httpcore.TimeoutException]


class _Clock:
    """The deadline of the run in progress (runs of one check never overlap)."""

    def __init__(self) -> None:
        self.deadline = float("inf")

    def left(self, timeout: float | None, error: _Timeout) -> float:
        """The smaller of `timeout` and the time left; `error` once nothing is left."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("the check's timeout passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A connection whose reads, writes and TLS handshake wait no longer than the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, clock: _Clock) -> None:
        self._inner = inner
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._clock.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._clock.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = self._clock.left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left), self._clock)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Resolves through a BoundedLookup, then connects to each address in turn, within the deadline."""

    def __init__(self, lookup: BoundedLookup, clock: _Clock) -> None:
        self._lookup = lookup
        self._clock = clock
        self._system = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._lookup(host, port, self._clock.left(timeout, httpcore.ConnectTimeout))
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            left = self._clock.left(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._system.connect_tcp(address, port, left, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address may answer
                failure = exc
                continue
            return _Stream(stream, self._clock)
        raise failure or httpcore.ConnectError(f"{host} has no address")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.UnsupportedProtocol("http checks use tcp")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _Body(httpx.SyncByteStream):
    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts = parts

    def __iter__(self) -> Iterator[bytes]:
        yield from self._parts

    def close(self) -> None:
        close = getattr(self._parts, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.BaseTransport):
    """httpx over httpcore's connection pool, with the lookup and every socket step bounded by
    `deadline(s)`; httpcore's errors (ConnectTimeout, ReadTimeout, ConnectError...) pass as they are."""

    def __init__(self, *, ssl_context: ssl.SSLContext, lookup: BoundedLookup) -> None:
        self._clock = _Clock()
        # No keep-alive: every run opens its own connection, so a server that went away (or changed
        # its certificate) shows at once, as blackbox_exporter measures it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_keepalive_connections=0,
            network_backend=_Backend(lookup, self._clock),
        )

    def deadline(self, seconds: float) -> None:
        """The run starting now ends at the latest `seconds` from now."""
        self._clock.deadline = time.monotonic() + seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the pool (as httpx's own HTTPTransport does)."""
        assert isinstance(request.stream, httpx.SyncByteStream)
        sent = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        answer = self._pool.handle_request(sent)
        assert isinstance(answer.stream, Iterable)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        """Close the pool's connections."""
        self._pool.close()
