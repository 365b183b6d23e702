"""The agent's HTTP client (one kept-alive HttpConnection per collector and thread): push gzipped
batches, long-poll actions, post their results.

Several collectors may be given; a request that cannot reach one moves on to the next, since
collectors share one database and any of them may take any batch."""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from checkd.agent.http_connection import BadResponse, HttpConnection, Response

GZIP_LEVEL = 6
# A kept-alive connection idle this long is replaced rather than reused: below `checkd serve`'s
# keep-alive (`[server] keep_alive`, default 20 s), so the collector never closes it under a
# request, and above the default --push-every, so a pushing agent keeps one connection.
MAX_IDLE_S = 15.0
_GZIP_WBITS = 31  # zlib writes the gzip format itself: no gzip module (and its io layers) to load


class Unreachable(Exception):
    """No collector answered (connection refused, timeout, 5xx, 429): retry later, keep the checks."""


class Refused(Exception):
    """A collector answered no to this request (4xx): `status` and its `detail`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


def _detail(body: bytes) -> str:
    try:
        return str(json.loads(body).get("detail", ""))
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


class Collectors:
    """The collectors' base URLs, the token, and which collector answered last."""

    def __init__(self, urls: Sequence[str], token: str, *, timeout: float = 30.0) -> None:
        self.urls = [u.rstrip("/") for u in urls]
        self.token = token
        self.timeout = timeout
        self.current = 0
        self._local = threading.local()  # each thread keeps its own connections
        self._counted = threading.Lock()
        self.connections_total = 0  # connections opened, every thread's
        self.resent_total = 0  # requests sent again after a kept-alive connection failed under them

    def _connection(self, index: int, timeout: float) -> HttpConnection:
        held: dict[int, HttpConnection] = self._local.__dict__.setdefault("held", {})
        conn = held.get(index)
        if conn is None:
            parts = urlsplit(self.urls[index])
            conn = held[index] = HttpConnection(
                parts.hostname or "",
                parts.port,
                tls=parts.scheme == "https",
                timeout=timeout,
                max_idle=MAX_IDLE_S,
                on_connect=self._opened,
            )
        conn.timeout = timeout
        return conn

    def _drop(self, index: int) -> None:
        conn = self._local.__dict__.get("held", {}).pop(index, None)
        if conn is not None:
            conn.close()

    def _exchange(
        self, index: int, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float
    ) -> Response:
        """One request on collector `index`'s connection; a kept-alive connection the server has
        closed meanwhile (its idle timeout) is replaced and the request sent again, once."""
        url = urlsplit(self.urls[index]).path + path
        for attempt in (1, 2):
            conn = self._connection(index, timeout)
            reused = conn.sock is not None  # one the server closed while idle is replaced in request()
            try:
                return conn.request(method, url, body, headers, timeout)
            except (OSError, BadResponse):
                self._drop(index)
                if reused and attempt == 1:
                    with self._counted:
                        self.resent_total += 1
                    continue
                raise
        raise AssertionError("unreachable")  # the second attempt returns or raises

    def _opened(self) -> None:
        with self._counted:
            self.connections_total += 1

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        timeout: float | None = None,
        compress: bool = False,
    ) -> Any:
        """The JSON answer of the first collector that answers, starting with the last good one."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if body is not None and compress:
            headers["Content-Encoding"] = "gzip"
            body = zlib.compress(body, GZIP_LEVEL, wbits=_GZIP_WBITS)
        errors = []
        for step in range(len(self.urls)):
            index = (self.current + step) % len(self.urls)
            try:
                resp = self._exchange(index, method, path, body, headers, timeout or self.timeout)
            except (OSError, BadResponse) as exc:  # refused, reset, timed out, garbled
                errors.append(f"{self.urls[index]}: {type(exc).__name__}: {exc}")
                continue
            status, answer = resp.status, resp.body
            if status >= 500 or status == 429:
                errors.append(f"{self.urls[index]}: {status} {_detail(answer)}")
                continue
            self.current = index
            if status >= 400:
                raise Refused(status, _detail(answer))
            try:
                return json.loads(answer or b"null")
            except ValueError:
                errors.append(f"{self.urls[index]}: an answer that is not JSON")
        raise Unreachable("; ".join(errors))

    def push(self, payloads: Sequence[bytes]) -> dict[str, int]:
        """POST one batch of encoded checks to /api/v2/ingest; its {"accepted","duplicates"}."""
        answer = self.request("POST", "/api/v2/ingest", b"[" + b",".join(payloads) + b"]", compress=True)
        return dict(answer)
