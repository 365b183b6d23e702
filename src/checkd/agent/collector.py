"""The agent's HTTP client (http.client, one kept-alive connection per collector and thread): push
gzipped batches, long-poll actions, post their results.

Several collectors may be given; a request that cannot reach one moves on to the next, since
collectors share one database and any of them may take any batch."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

GZIP_LEVEL = 6


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

    def _connection(self, index: int, timeout: float) -> http.client.HTTPConnection:
        held: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("held", {})
        conn = held.get(index)
        if conn is None:
            parts = urlsplit(self.urls[index])
            make = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = held[index] = make(parts.hostname or "", parts.port, timeout=timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self, index: int) -> None:
        conn = self._local.__dict__.get("held", {}).pop(index, None)
        if conn is not None:
            conn.close()

    def _exchange(
        self, index: int, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """One request on collector `index`'s connection; a kept-alive connection the server has
        closed meanwhile (its idle timeout) is replaced and the request sent again, once."""
        url = urlsplit(self.urls[index]).path + path
        for attempt in (1, 2):
            conn = self._connection(index, timeout)
            reused = conn.sock is not None
            try:
                conn.request(method, url, body=body, headers=headers)
                resp = conn.getresponse()
                answer = resp.read()
            except (OSError, http.client.HTTPException):
                self._drop(index)
                if reused and attempt == 1:
                    continue
                raise
            if resp.will_close:
                self._drop(index)
            return resp, answer
        raise AssertionError("unreachable")  # the second attempt returns or raises

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
            body = gzip.compress(body, GZIP_LEVEL)
        errors = []
        for step in range(len(self.urls)):
            index = (self.current + step) % len(self.urls)
            try:
                resp, answer = self._exchange(index, method, path, body, headers, timeout or self.timeout)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, garbled
                errors.append(f"{self.urls[index]}: {type(exc).__name__}: {exc}")
                continue
            status = resp.status
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
