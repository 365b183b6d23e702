"""HEAD on every read-only GET route: the GET's status and headers, without the body."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from checkd.api.deps import require_scope
from checkd.api.sampler_control import sampler_actor
from checkd.tokens import SCOPES

# The dependencies of routes that act (a v1.0 GET starts the sampler): HEAD must not act.
# sampler_actor checks the `operate` scope itself (to audit a 403), so it is named here too.
_ACTING = {require_scope(scope) for scope in SCOPES if scope != "read"} | {sampler_actor}


def _acts(dependant: Dependant) -> bool:
    return dependant.call in _ACTING or any(_acts(d) for d in dependant.dependencies)


def answer_head(router: APIRouter) -> APIRouter:
    """Give each GET route of `router` that does not act a HEAD twin (once); return `router`.

    The twin runs the same endpoint with the same dependencies (and those the router gets when it
    is included); uvicorn sends no body for HEAD and keeps Content-Length. A route that acts keeps
    answering HEAD with 405. Twins come after every GET route: a full match wins over the GET
    routes' method-only (partial) matches, and they keep the GET routes' order among themselves."""
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    twinned = {r.path for r in routes if r.methods == {"HEAD"}}
    for get in routes:
        if get.methods != {"GET"} or get.path in twinned or _acts(get.dependant):
            continue
        router.add_api_route(
            get.path.removeprefix(router.prefix),  # the stored path has the router's prefix already
            get.endpoint,
            methods=["HEAD"],
            response_model=get.response_model,
            status_code=get.status_code,
            dependencies=get.dependencies,
            response_class=get.response_class,
            name=f"{get.name}_head",
            include_in_schema=False,
        )
    return router
