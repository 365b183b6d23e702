"""Request dependencies: the Monitor, the database reader, the token check and host resolution."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from checkd import store
from checkd.api.authn import Authenticator, AuthRefused, Principal
from checkd.monitor import Monitor
from checkd.tokens import SCOPES, Scope, grants

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="The API token (`checkd token` prints it)")
bearer_scheme = _bearer  # for a route's own token dependency (it documents the scheme in OpenAPI)


async def get_monitor(request: Request) -> Monitor:
    """The Monitor this app serves (async: FastAPI runs a plain function in its threadpool)."""
    monitor: Monitor = request.app.state.monitor
    return monitor


MonitorDep = Annotated[Monitor, Depends(get_monitor)]


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def authenticate(request: Request) -> Principal:
    """The caller of `request` (raises 401, 429 or 503 as HTTPException)."""
    authenticator: Authenticator = request.app.state.auth
    try:
        return authenticator.authenticate(request.headers.get("authorization"), _client(request))
    except AuthRefused as exc:
        raise _http_error(exc) from None


def _http_error(exc: AuthRefused) -> HTTPException:
    return HTTPException(exc.status, exc.detail, headers=exc.headers or None)


def token_revoked(request: Request, principal: Principal) -> HTTPException:
    """The 401 for a request whose named token the store found revoked (store.TokenGone)."""
    authenticator: Authenticator = request.app.state.auth
    return _http_error(authenticator.revoked(principal))


def _refuse_unless(principal: Principal, needed: Scope) -> None:
    if not grants(principal.scope, needed):
        raise HTTPException(
            403, f"Authorization: this token has scope {principal.scope!r}; this route needs {needed!r}"
        )


def _scope_dependency(needed: Scope) -> Callable[..., Principal]:
    def dependency(
        request: Request, _creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        # `_creds` only documents the bearer scheme in OpenAPI; the header is checked by authenticate.
        principal = authenticate(request)
        _refuse_unless(principal, needed)
        return principal

    dependency.__name__ = f"require_{needed}"
    return dependency


_SCOPE_DEPENDENCIES = {scope: _scope_dependency(scope) for scope in SCOPES}


def require_scope(needed: Scope) -> Callable[..., Principal]:
    """The dependency refusing a request unless its token grants `needed` (401, 403 naming it, 429)."""
    return _SCOPE_DEPENDENCIES[needed]


def operator_name(
    request: Request, principal: Annotated[Principal, Depends(require_scope("operate"))]
) -> str:
    """The actor recorded for an action: a named token's name, or cli/dashboard/api for the admin token."""
    if not principal.is_admin_token:
        return principal.name
    client = request.headers.get("x-checkd-client", "")
    return client if client in ("cli", "dashboard") else "api"


async def read_access(request: Request) -> None:
    """Reads are open unless `auth.protect_reads` is set; then they need a token with `read`.

    The header is read by hand, not through the security scheme, so that OpenAPI does not
    document open reads as needing a token."""
    if request.app.state.protect_reads:
        authenticator: Authenticator = request.app.state.auth
        try:
            principal = await authenticator.authenticate_async(
                request.headers.get("authorization"), _client(request)
            )
        except AuthRefused as exc:
            raise _http_error(exc) from None
        _refuse_unless(principal, "read")


# Mutating routes take an Actor: a token with the `operate` scope (admin included), named for the audit log.
Actor = Annotated[str, Depends(operator_name)]


def require_ready(monitor: Monitor) -> None:
    """503 naming the reason while the database is not open yet (or cannot be reached)."""
    if not monitor.ready.is_set():
        raise HTTPException(503, f"database unavailable: {monitor.database_error or 'starting up'}")


class Reader:
    """The one way a route reads the database: `await read(work)` runs `work(conn)` on a fresh
    connection in the threadpool (one hop off the event loop) and returns what it returns."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    async def __call__(self, work: Callable[[Connection], T]) -> T:
        """`work(conn)`'s result; 503 while the database is not ready."""
        require_ready(self.monitor)
        return await run_in_threadpool(self._run, work)

    def _run(self, work: Callable[[Connection], T]) -> T:
        with self.monitor.engine.connect() as conn:
            return work(conn)


async def reader(monitor: MonitorDep) -> Reader:
    """The route's `Reader` (see `Read`)."""
    return Reader(monitor)


Read = Annotated[Reader, Depends(reader)]

HostQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=255,
        description="host name (see /api/v2/hosts); default: this checkd's host",
    ),
]


def resolve_host(conn: Connection, monitor: Monitor, host: str | None) -> str:
    """The host a read is about; 404 naming `host` when the database has never seen it."""
    name = host or monitor.host
    if (
        host is not None
        and host != monitor.host
        and store.host_id(conn=conn, name=name, create=False) is None
    ):
        raise HTTPException(404, f"host: no host named {host!r} in this database")
    return name


def epoch_seconds(value: datetime) -> int:
    """Unix seconds of `value` (a time without a zone is taken as UTC)."""
    return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())


def _not_a_number(value: object) -> object:
    # pydantic reads a number as Unix seconds; the API documents ISO 8601 date-times only.
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        raise ValueError("must be an ISO 8601 date-time like 2026-01-31T12:00:00Z, not a number")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


IsoDateTime = Annotated[datetime, BeforeValidator(_not_a_number)]


def time_range(since: datetime | None, until: datetime | None) -> tuple[int | None, int | None]:
    """`since`/`until` as Unix seconds; 422 naming `since` when it is after `until`."""
    t0 = None if since is None else epoch_seconds(since)
    t1 = None if until is None else epoch_seconds(until)
    if t0 is not None and t1 is not None and t0 > t1:
        raise HTTPException(422, "since: must not be after until")
    return t0, t1
