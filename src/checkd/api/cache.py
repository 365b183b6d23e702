"""A response cache for reads about the local host, emptied whenever a new check is stored."""

from __future__ import annotations

import threading

from starlette.types import ASGIApp, Receive, Scope, Send

from checkd.probes import Check

_MAX_ENTRIES = 256


class ResponseCache:
    """Serialized bodies keyed by request; valid until the next stored check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: dict[str, bytes] = {}
        self.generation = 0

    def get(self, key: str) -> bytes | None:
        """The cached body for `key`, if any."""
        return self._bodies.get(key)

    def put(self, key: str, generation: int, body: bytes) -> None:
        """Keep `body`, unless a check was stored since `generation` was read (it may be stale)."""
        with self._lock:
            if generation == self.generation and len(self._bodies) < _MAX_ENTRIES:
                self._bodies[key] = body

    def invalidate(self, _check: Check | None = None) -> None:
        """Drop everything (a sampler on_written listener)."""
        with self._lock:
            self.generation += 1
            self._bodies.clear()


class CacheFront:
    """ASGI middleware answering GETs whose body is cached, before routing and validation.

    Only bodies that a route built successfully are ever cached, so answering them here is the
    same answer, minus the framework's per-request work on the hottest read paths."""

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = self.cache.get(f"{scope['path']}?{scope['query_string'].decode('latin-1')}")
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body)),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
