"""Exception handlers: every error is JSON `{"detail": "..."}` naming the parameter; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body", "header")]
        name = ".".join(loc) or "body"
        parts.append(f"{name}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


async def _on_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _validation_detail(exc)}, status_code=422)


async def _on_database(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database error: %s", exc)
    first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return JSONResponse({"detail": f"database unavailable: {first}"}, status_code=503)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register checkd's JSON error handlers on `app`."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(SQLAlchemyError, _on_database)
    app.add_exception_handler(Exception, _on_unexpected)
