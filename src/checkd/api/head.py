"""HEAD on every read-only GET route: the GET's status and headers, without the body."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from checkd.api.deps import require_scope
from checkd.api.sampler_control import sampler_actor
from checkd.tokens import SCOPES

# The dependencies of routes that act (a v1.0 GET starts the sampler): HEAD must not act.
# sampler_actor checks the `operate` scope itself (to audit a 403), so it is named here too.
_ACTING = {require_scope(scope) for scope in SCOPES if scope != "read"} | {sampler_actor}


def _acts(dependant: Dependant) -> bool:
    return dependant.call in _ACTING or any(_acts(d) for d in dependant.dependencies)


class HeadAnswers:
    """Which GET routes answer HEAD: those of the routers passed to `answer` that do not act.

    Every router the app includes is recorded here, in the app's order, so the route a GET
    reaches is found as the app's router finds it: the first full match."""

    def __init__(self) -> None:
        self._routes: list[tuple[APIRoute, bool]] = []  # (route, answers HEAD), in include order

    def answer(self, router: APIRouter) -> APIRouter:
        """Let each GET route of `router` that does not act answer HEAD; return `router` (to include)."""
        return self._record(router, answers=True)

    def pass_over(self, router: APIRouter) -> APIRouter:
        """Record `router`'s routes as answering no HEAD; return `router` (to include)."""
        return self._record(router, answers=False)

    def _record(self, router: APIRouter, *, answers: bool) -> APIRouter:
        for route in router.routes:
            if isinstance(route, APIRoute):
                reads = route.methods == {"GET"} and not _acts(route.dependant)
                self._routes.append((route, answers and reads))
        return router

    def answers(self, scope: Scope) -> bool:
        """True when the route a GET of `scope` reaches answers HEAD."""
        for route, answers in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return answers
        return False


class HeadAsGet:
    """ASGI middleware: a HEAD whose GET reaches a route that answers HEAD runs as that GET.

    The route runs with its dependencies as for a GET (token checks included); uvicorn sends no
    body for the HEAD request it received and keeps Content-Length. Any other HEAD goes on as it
    came: a route that acts answers it with 405, an unknown path with 404. One route serves both
    methods, so HEAD costs no second route (its response model built again) per GET."""

    def __init__(self, app: ASGIApp, *, answers: HeadAnswers) -> None:
        self.app = app
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            as_get = {**scope, "method": "GET"}
            if self.answers.answers(as_get):
                scope = as_get
        await self.app(scope, receive, send)
