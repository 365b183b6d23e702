"""ASGI middleware: a request body needs a valid token before it is read, and is size-limited (413)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from checkd.api.authn import Authenticator, AuthRefused

DEFAULT_MAX_BODY = 1024 * 1024


def too_large(limit: int) -> str:
    """The 413 detail for a body over `limit` bytes."""
    return f"body: larger than {limit} bytes (server.max_body)"


class BodyGate:
    """Refuse bodies from callers without a valid token (401/429) and bodies over the limit (413).

    The token is checked before a byte of the body is read, so an unauthenticated client cannot
    make the server buffer anything. Content-Length over the limit is refused at once; a chunked
    body is counted as it is read (Starlette's RequestBodyLimitMiddleware) and refused past it.
    `route_limits` maps a path prefix to a larger (or smaller) limit for the routes under it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: Authenticator,
        max_body: int = DEFAULT_MAX_BODY,
        route_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.max_body = max_body
        self.route_limits = dict(route_limits or {})

    def limit_for(self, path: str) -> int:
        """The body limit of `path`: the longest matching prefix in route_limits, else max_body."""
        best = ""
        for prefix in self.route_limits:
            if path.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.route_limits[best] if best else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length_header = headers.get("content-length")
        chunked = "transfer-encoding" in headers
        try:
            length = int(length_header) if length_header is not None else 0
        except ValueError:
            await _refuse(scope, receive, send, 400, "Content-Length: not a number")
            return
        if length <= 0 and not chunked:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            await self.auth.authenticate_async(headers.get("authorization"), client)
        except AuthRefused as exc:
            await _refuse(scope, receive, send, exc.status, exc.detail, exc.headers)
            return
        limit = self.limit_for(scope["path"])
        if length > limit:
            await _refuse(scope, receive, send, 413, too_large(limit))
            return
        # Starlette's limiter counts a chunked body as it is read; the 413 it raises inside the app
        # becomes the JSON answer in api/errors.py.
        await RequestBodyLimitMiddleware(self.app, max_body_size=limit)(scope, receive, send)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    response = JSONResponse({"detail": detail}, status_code=status, headers=dict(headers or {}))
    # The body was not read: ask the server to close the connection rather than drain it.
    response.headers["connection"] = "close"
    await response(scope, receive, send)
