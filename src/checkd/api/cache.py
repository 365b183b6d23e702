"""The response cache: a route declares its answer valid until the next stored check, CacheFront serves it."""

from __future__ import annotations

import threading

from fastapi import Request, params
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkd.probes import Check

_MAX_ENTRIES = 256
_MARK = "cache_until_next_check"  # set in request.state by the route dependency below
JSON = "application/json"


class ResponseCache:
    """JSON answers keyed by request, each built once and sent as often as asked; valid until the
    next stored check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, Response] = {}
        self.generation = 0

    def get(self, key: str) -> Response | None:
        """The cached answer for `key`, if any."""
        return self._answers.get(key)

    def put(self, key: str, generation: int, body: bytes) -> None:
        """Keep `body`, unless a check was stored since `generation` was read (it may be stale)."""
        answer = Response(body, media_type=JSON)
        with self._lock:
            if generation == self.generation and len(self._answers) < _MAX_ENTRIES:
                self._answers[key] = answer

    def invalidate(self, _check: Check | None = None) -> None:
        """Drop everything (a sampler on_written listener)."""
        with self._lock:
            self.generation += 1
            self._answers.clear()


def _cache_until_next_check(request: Request, *, needs: tuple[str, ...]) -> None:
    # Other hosts' checks arrive through the shared database without this process knowing, so
    # only reads about this checkd's own host stay valid until its sampler stores the next check.
    query = request.query_params
    host = query.get("host")
    if (host is None or host == request.app.state.monitor.host) and all(name in query for name in needs):
        setattr(request.state, _MARK, True)


def cache_until_next_check(*needs: str) -> params.Depends:
    """A route dependency declaring its 200 answer unchanged until the sampler stores the next check.

    It holds for reads of this checkd's own host only, and only when every query parameter in
    `needs` is given (a parameter whose default moves, such as `until` = now, is not stable)."""

    async def dependency(request: Request) -> None:
        _cache_until_next_check(request, needs=needs)

    return params.Depends(dependency)


class CacheFront:
    """ASGI middleware answering GETs from the cache before routing, and keeping declared answers.

    A body is kept only when its route declared it cacheable (`cache_until_next_check`), answered
    200, and sent it uncompressed, so a hit is the same answer the route gave, minus the
    framework's per-request work on the hottest read paths."""

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key = f"{scope['path']}?{scope['query_string'].decode('latin-1')}"
        answer = self.cache.get(key)
        if answer is not None:
            await answer(scope, receive, send)  # a Response only reads itself when sent
            return
        generation = self.cache.generation
        chunks: list[bytes] | None = None

        async def keep(message: Message) -> None:
            nonlocal chunks
            if message["type"] == "http.response.start":
                if message["status"] == 200 and _declared(scope) and not _encoded(message):
                    chunks = []
            elif chunks is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.cache.put(key, generation, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keep)


def _declared(scope: Scope) -> bool:
    state = scope.get("state")
    return bool(state and state.get(_MARK))


def _encoded(start: Message) -> bool:
    return any(name == b"content-encoding" for name, _ in start.get("headers", ()))
