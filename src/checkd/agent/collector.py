"""The agent's HTTP client (urllib): push gzipped batches, long-poll actions, post their results.

Several collectors may be given; a request that cannot reach one moves on to the next, since
collectors share one database and any of them may take any batch."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

GZIP_LEVEL = 6


class Unreachable(Exception):
    """No collector answered (connection refused, timeout, 5xx, 429): retry later, keep the checks."""


class Refused(Exception):
    """A collector answered no to this request (4xx): `status` and its `detail`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class Collectors:
    """The collectors' base URLs, the token, and which collector answered last."""

    def __init__(self, urls: Sequence[str], token: str, *, timeout: float = 30.0) -> None:
        self.urls = [u.rstrip("/") for u in urls]
        self.token = token
        self.timeout = timeout
        self.current = 0
        # No proxies from the environment: the agent talks to its collectors directly.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

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
            # The scheme is http(s), checked by the options.
            req = urllib.request.Request(  # noqa: S310
                self.urls[index] + path, data=body, headers=headers, method=method
            )
            try:
                with self._opener.open(req, timeout=timeout or self.timeout) as resp:
                    answer = json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as exc:
                detail = _detail(exc)
                if exc.code >= 500 or exc.code == 429:
                    errors.append(f"{self.urls[index]}: {exc.code} {detail}")
                    continue
                self.current = index
                raise Refused(exc.code, detail) from None
            except (OSError, ValueError) as exc:  # refused, reset, timed out, a garbled answer
                errors.append(f"{self.urls[index]}: {type(exc).__name__}: {exc}")
                continue
            self.current = index
            return answer
        raise Unreachable("; ".join(errors))

    def push(self, payloads: Sequence[bytes]) -> dict[str, int]:
        """POST one batch of encoded checks to /api/v2/ingest; its {"accepted","duplicates"}."""
        answer = self.request("POST", "/api/v2/ingest", b"[" + b",".join(payloads) + b"]", compress=True)
        return dict(answer)


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("detail", ""))
    except (OSError, ValueError, AttributeError):
        return exc.reason if isinstance(exc.reason, str) else ""
