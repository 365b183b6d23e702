"""Exception handlers: every error is JSON `{"detail": "..."}` naming the parameter; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.routing import Match, Mount

from checkd.api.body_gate import too_large
from checkd.db import describe_database_error

log = logging.getLogger(__name__)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        if err.get("type") == "json_invalid":
            parts.append(f"body: not valid JSON ({err.get('ctx', {}).get('error', 'decode error')})")
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header")]
        name = ".".join(loc) or "body"
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{name}: {msg}")
    return "; ".join(parts) or "invalid request"


async def _on_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _validation_detail(exc)}, status_code=422)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path (for a 405's Allow header)."""
    allowed = []
    for method in _METHODS:
        # A Mount moves its prefix into root_path; match from the app's own root again.
        root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
        probe = {**request.scope, "method": method, "root_path": root}
        for route in request.app.routes:
            match, _ = route.matches(probe)
            if match is Match.FULL and (not isinstance(route, Mount) or method in ("GET", "HEAD")):
                allowed.append(method)
                break
        else:  # a GET route that only reads answers HEAD too (api/head.py)
            if method == "HEAD" and request.app.state.head.answers({**probe, "method": "GET"}):
                allowed.append(method)
    return allowed


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI answers 400 when a body cannot be decoded at all (not UTF-8, nested too deep).
        reason = "not UTF-8" if isinstance(exc.__cause__, UnicodeError) else "cannot be parsed"
        return JSONResponse({"detail": f"body: not valid JSON ({reason})"}, status_code=422)
    if exc.status_code == 413 and not str(exc.detail).startswith("body: "):  # a route's own 413 says why
        limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
        return JSONResponse({"detail": too_large(limit) if limit else "body: too large"}, status_code=413)
    if exc.status_code == 405:
        allow = allowed_methods(request)
        detail = f"method: {request.method} is not allowed here; allowed: {', '.join(allow) or 'none'}"
        return JSONResponse({"detail": detail}, status_code=405, headers={"Allow": ", ".join(allow)})
    return await http_exception_handler(request, exc)


async def _on_database(request: Request, exc: Exception) -> JSONResponse:
    log.error("database error: %s", exc)
    reason = describe_database_error(exc, request.app.state.monitor.engine.url).removeprefix("database: ")
    return JSONResponse({"detail": f"database unavailable: {reason}"}, status_code=503)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register checkd's JSON error handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(SQLAlchemyError, _on_database)
    app.add_exception_handler(Exception, _on_unexpected)
