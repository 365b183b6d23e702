"""ASGI middleware refusing requests whose Host header is not allowed (DNS-rebinding defence)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from checkd.auth import host_header_allowed


class HostGuard:
    """400 with a JSON body unless the Host header names an allowed host."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host")
            if not host_header_allowed(host, self.allowed):
                refusal = JSONResponse({"detail": f"Host header {host!r} is not allowed"}, status_code=400)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
