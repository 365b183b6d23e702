"""Request dependencies: the Monitor, a database connection, the token check and host resolution."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from checkd import store
from checkd.auth import token_matches
from checkd.monitor import Monitor

_bearer = HTTPBearer(auto_error=False, description="The API token (`checkd token` prints it)")


def get_monitor(request: Request) -> Monitor:
    """The Monitor this app serves."""
    monitor: Monitor = request.app.state.monitor
    return monitor


MonitorDep = Annotated[Monitor, Depends(get_monitor)]


def _check_token(request: Request, creds: HTTPAuthorizationCredentials | None) -> None:
    expected: str = request.app.state.token
    given = creds.credentials if creds is not None and creds.scheme.lower() == "bearer" else None
    if not token_matches(given, expected):
        detail = "Authorization: missing bearer token" if given is None else "Authorization: wrong token"
        raise HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def require_token(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """Refuse the request with 401 unless it carries the API token; return the actor's name."""
    _check_token(request, creds)
    client = request.headers.get("x-checkd-client", "")
    return client if client in ("cli", "dashboard") else "api"


async def read_access(request: Request) -> None:
    """Reads are open unless `auth.protect_reads` is set; then they need the token too.

    The header is read by hand, not through the security scheme, so that OpenAPI does not
    document open reads as needing a token."""
    if request.app.state.protect_reads:
        _check_token(request, await _bearer(request))


Actor = Annotated[str, Depends(require_token)]


def require_ready(monitor: Monitor) -> None:
    """503 naming the reason while the database is not open yet (or cannot be reached)."""
    if not monitor.ready.is_set():
        raise HTTPException(503, f"database unavailable: {monitor.database_error or 'starting up'}")


def db_conn(monitor: MonitorDep) -> Iterator[Connection]:
    """A connection for one request; 503 while the database is not ready."""
    require_ready(monitor)
    with monitor.engine.connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(db_conn)]

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


def time_range(since: datetime | None, until: datetime | None) -> tuple[int | None, int | None]:
    """`since`/`until` as Unix seconds; 422 naming `since` when it is after `until`."""
    t0 = None if since is None else epoch_seconds(since)
    t1 = None if until is None else epoch_seconds(until)
    if t0 is not None and t1 is not None and t0 > t1:
        raise HTTPException(422, "since: must not be after until")
    return t0, t1
