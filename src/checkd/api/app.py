"""The FastAPI app factory: routers, offline docs, error handlers, Host guard, sampler life cycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import GZipMiddleware

from checkd import __doc__ as checkd_doc
from checkd.api.agent_wakeups import AgentWakeups
from checkd.api.authn import Authenticator, FailureLimiter
from checkd.api.body_gate import BodyGate
from checkd.api.cache import CacheFront, ResponseCache
from checkd.api.conditional import ConditionalGet
from checkd.api.deps import read_access
from checkd.api.docs_pages import ASSETS, with_tag_order
from checkd.api.docs_pages import router as docs_router
from checkd.api.errors import install_error_handlers
from checkd.api.head import HeadAnswers, HeadAsGet
from checkd.api.hosts_guard import HostGuard
from checkd.api.respond import error_responses
from checkd.api.routes import (
    actions,
    agents,
    alerts,
    checks,
    dashboard,
    health,
    history,
    hosts,
    ingest,
    metrics,
    notify,
    probes,
    processes,
    sampler,
    services,
    upkeep,
    v1,
)
from checkd.auth import allowed_host_names
from checkd.monitor import Monitor

log = logging.getLogger(__name__)
VERSION = "0.1.0"


def create_app(monitor: Monitor, *, token: str) -> FastAPI:
    """Build the app for `monitor`; the lifespan opens the database (retrying) and closes the monitor."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not monitor.ready.is_set():
            monitor.open_in_background()
        yield
        wakeups.close()
        monitor.close()

    # FastAPIOffline serves the Swagger UI and Redoc bundles; docs_pages serves the pages themselves.
    app = FastAPIOffline(
        docs_url=None,
        redoc_url=None,
        static_url=ASSETS,
        title="checkd",
        version=VERSION,
        description=(checkd_doc or "")
        + "\n\nMutating routes need `Authorization: Bearer <token>` with the `operate` scope (the admin"
        " token, printed by `checkd token`, has every scope). Bodies: JSON, at most `server.max_body`.",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.monitor = monitor
    app.state.token = token
    app.state.auth = auth = Authenticator(monitor, token, FailureLimiter(monitor.settings.auth.failure_limit))
    app.state.protect_reads = monitor.settings.auth.protect_reads
    app.state.cache = cache = ResponseCache()
    app.state.agent_wakeups = wakeups = AgentWakeups(monitor)  # agents' long polls wait there
    monitor.sampler.on_written(cache.invalidate)

    reads = [Depends(read_access)]  # open unless auth.protect_reads; mutating routes check the token anyway
    # head.answer: HEAD answers like GET (without the body) on every GET route that only reads.
    app.state.head = head = HeadAnswers()  # errors.py lists HEAD in a 405's Allow through it
    for module in (
        v1,
        checks,
        history,
        sampler,
        upkeep,
        services,
        actions,
        hosts,
        alerts,
        notify,
        probes,
        processes,
    ):
        app.include_router(head.answer(module.router), dependencies=reads, responses=error_responses(503))
    for module in (ingest, agents):  # their own token checks (ingest scope), not the reads'
        app.include_router(head.pass_over(module.router), responses=error_responses(503))
    app.include_router(head.answer(health.router))
    app.include_router(head.answer(metrics.router_for(monitor)), dependencies=reads)
    app.include_router(head.answer(docs_router))
    build_openapi = app.openapi  # FastAPI's documented way to extend the document: replace app.openapi
    app.openapi = lambda: with_tag_order(build_openapi())  # type: ignore[method-assign]
    app.include_router(head.answer(dashboard.router))  # GET / and /static/vendor/* (before the /static mount)
    app.mount("/static", dashboard.static_files(), name="static")
    install_error_handlers(app)
    # Innermost: JSON answers get an ETag of their uncompressed bytes, and 304 when unchanged.
    app.add_middleware(ConditionalGet)
    app.add_middleware(HeadAsGet, answers=head)  # inside CacheFront: HEAD skips it
    # Dashboard assets, and the newest check an open dashboard reads on every refresh (~0.7 KB).
    app.add_middleware(GZipMiddleware, minimum_size=512)
    # Routes declare their answers cacheable (cache.cache_until_next_check); CacheFront keeps and
    # serves them. With protected reads every request must reach the token check, so it is off.
    if not app.state.protect_reads:
        app.add_middleware(CacheFront, cache=cache)
    # The token is checked before a body is read; ingest takes larger bodies (agents' batches).
    app.add_middleware(
        BodyGate,
        auth=auth,
        max_body=monitor.settings.server.max_body,
        route_limits={"/api/v2/ingest": ingest.MAX_BODY},
    )
    app.add_middleware(HostGuard, allowed=allowed_host_names(monitor.settings))  # outermost
    return app
