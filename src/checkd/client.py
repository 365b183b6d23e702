"""A small HTTP client for the CLI: talks to a running `checkd serve` with the stored token."""

from __future__ import annotations

from typing import Any

import httpx

from checkd.auth import read_token_file
from checkd.config import Settings


class ServerUnavailable(Exception):
    """No checkd answers at the configured address."""


class ApiError(Exception):
    """The server answered with an error status; `detail` is its message."""

    def __init__(self, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.body = body


def base_url(settings: Settings) -> str:
    """The URL of the server these settings describe (a wildcard bind is reached on loopback)."""
    host = settings.server.host
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}"


def checked_url(url: str) -> str:
    """`url` as a server's base URL (http or https with a host); ValueError saying what is wrong."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{url!r} is not an http(s)://HOST[:PORT] URL")
    return str(parsed)


class CheckdClient:
    """Calls the API as the CLI (actor `cli` in the audit log)."""

    def __init__(self, settings: Settings, *, url: str | None = None, timeout: float = 120.0) -> None:
        """Talk to `url` when given (ValueError if it is not an http(s) URL), else to `[server]` host/port."""
        token = (
            settings.auth.token.get_secret_value()
            if settings.auth.token
            else read_token_file(settings.token_path)
        )
        headers = {"X-Checkd-Client": "cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = checked_url(url) if url else base_url(settings)
        self._from = "--url" if url else "[server] host and port"
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, trust_env=False)

    def request(self, method: str, path: str, *, ok_statuses: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """Send a request and return the decoded JSON; raise ServerUnavailable or ApiError."""
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"checkd is not running at {self.url} (from {self._from}: {exc or type(exc).__name__}); "
                "start it with `checkd serve`, or name its address with --url URL "
                "or [server] host/port (env CHECKD_SERVER__PORT)"
            ) from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 400 and resp.status_code not in ok_statuses:
            detail = body.get("detail") if isinstance(body, dict) else resp.text[:200]
            raise ApiError(resp.status_code, str(detail), body)
        return body

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()
