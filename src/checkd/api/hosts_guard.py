"""ASGI middleware refusing requests whose Host header is not allowed (DNS-rebinding defence)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from checkd.auth import host_header_allowed


class HostGuard:
    """400 with a JSON body unless the Host header names an allowed host."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = None
            for key, value in scope["headers"]:
                if key == b"host":
                    host = value.decode("latin-1")
                    break
            if not host_header_allowed(host, self.allowed):
                body = json.dumps({"detail": f"Host header {host!r} is not allowed"}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
