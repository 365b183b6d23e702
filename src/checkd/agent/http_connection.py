"""One kept-alive HTTP/1.1 client connection for the agent: the socket module only (ssl for https).

http.client reads every answer's headers with the email package, which with its imports was the
largest part of the agent's memory after the interpreter itself. A collector's answer needs a
status line, a few headers and a body framed by Content-Length or chunked encoding, which is
what this reads; anything else is a BadResponse."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # status line and headers
MAX_BODY = 16 * 1024 * 1024  # the collector's answers are small JSON documents
_CHUNK = 64 * 1024


class BadResponse(Exception):
    """The server answered something this client does not read as HTTP/1.1."""


@dataclass(frozen=True)
class Response:
    """A status, the headers (names lower-cased), the body, and whether the server closes."""

    status: int
    headers: dict[str, str]
    body: bytes
    will_close: bool


def _host_bytes(host: str) -> bytes:
    # getaddrinfo given a str runs the idna codec (and loads unicodedata) even for an address.
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host.encode("idna")


class HttpConnection:
    """Requests in turn on one connection, opened when first needed and again after a close."""

    def __init__(
        self,
        host: str,
        port: int | None,
        *,
        tls: bool = False,
        timeout: float = 30.0,
        max_idle: float = float("inf"),
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port or (443 if tls else 80)
        self.tls = tls
        self.timeout = timeout
        # A connection idle this long is replaced before a request, not reused: the server is
        # about to close it, and a request sent as it does would meet the close (a reset).
        self.max_idle = max_idle
        self.on_connect = on_connect  # called each time a connection is opened
        self.sock: socket.socket | None = None
        self._idle_since = 0.0  # monotonic time the last answer was read
        self._buffer = b""
        name = f"[{host}]" if ":" in host else host
        self._host_header = name if port is None else f"{name}:{port}"

    def _connect(self) -> socket.socket:
        # getaddrinfo takes bytes as well as str (typeshed says str only)
        address = (_host_bytes(self.host), self.port)
        sock = socket.create_connection(address, self.timeout)  # type: ignore[arg-type]
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            import ssl  # https collectors only: an http-only agent never loads OpenSSL

            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        return sock

    def idle_closed(self) -> bool:
        """True when the kept-alive connection is unusable: the server closed it (or sent
        something unasked) while it was idle, or it sat idle for `max_idle` s, so the next
        request needs a new one."""
        if self.sock is None:
            return False
        if time.monotonic() - self._idle_since >= self.max_idle:
            return True
        poller = select.poll()  # not select(): it cannot watch a descriptor numbered 1024 or more
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self._buffer = b""

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float
    ) -> Response:
        """Send one request and read its whole answer; OSError or BadResponse when that fails
        (the connection is then closed)."""
        if self.idle_closed():
            self.close()
        try:
            if self.sock is None:
                self.sock = self._connect()
                if self.on_connect is not None:
                    self.on_connect()
            self.sock.settimeout(timeout)
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            if body is not None:
                lines.append(f"Content-Length: {len(body)}")
            self.sock.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + (body or b""))
            answer = self._read_response(method)
        except BaseException:
            self.close()
            raise
        if answer.will_close:
            self.close()
        self._idle_since = time.monotonic()
        return answer

    def _recv(self) -> bytes:
        assert self.sock is not None
        data = self.sock.recv(_CHUNK)
        if not data:
            raise BadResponse("the server closed the connection before answering in full")
        return data

    def _read_until(self, mark: bytes, limit: int) -> bytes:
        """Bytes up to `mark` (consumed, not returned)."""
        while True:
            found = self._buffer.find(mark)
            if found >= 0:
                out, self._buffer = self._buffer[:found], self._buffer[found + len(mark) :]
                return out
            if len(self._buffer) > limit:
                raise BadResponse("an answer's head or chunk line is too long")
            self._buffer += self._recv()

    def _read_exactly(self, size: int) -> bytes:
        if size > MAX_BODY:
            raise BadResponse(f"an answer body of {size} bytes")
        while len(self._buffer) < size:
            self._buffer += self._recv()
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def _read_response(self, method: str) -> Response:
        head = self._read_until(b"\r\n\r\n", MAX_HEAD).decode("latin-1").split("\r\n")
        version, _, rest = head[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise BadResponse(f"not an HTTP/1.x status line: {head[0][:80]!r}")
        status = int(code)
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadResponse(f"a header line without a colon: {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        will_close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise BadResponse("a Content-Length that is not a number") from None
            body = self._read_exactly(length)
        else:  # framed by the end of the connection
            parts: list[bytes] = [self._buffer]
            self._buffer = b""
            assert self.sock is not None
            while data := self.sock.recv(_CHUNK):
                parts.append(data)
                if sum(map(len, parts)) > MAX_BODY:
                    raise BadResponse("an answer body over the limit")
            body, will_close = b"".join(parts), True
        return Response(status, headers, body, will_close)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self._read_until(b"\r\n", 1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise BadResponse("a chunk size that is not hexadecimal") from None
            if size == 0:
                while self._read_until(b"\r\n", MAX_HEAD):  # trailers, up to the empty line
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                raise BadResponse("an answer body over the limit")
            parts.append(self._read_exactly(size))
            self._read_until(b"\r\n", 2)
