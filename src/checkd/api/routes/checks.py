"""/api/v2/checks: keyset-paginated list, latest, one by id."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import Connection

from checkd import store
from checkd.api.cache import cache_until_next_check
from checkd.api.deps import HostQuery, IsoDateTime, MonitorDep, Read, resolve_host, time_range
from checkd.api.respond import error_responses
from checkd.schemas import CheckOut, CheckPage

router = APIRouter(prefix="/api/v2/checks", tags=["checks"])


def encode_cursor(taken_at: int, check_id: int) -> str:
    """An opaque cursor for the position after (taken_at, id)."""
    return base64.urlsafe_b64encode(f"{taken_at}:{check_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(taken_at, id) from a cursor; 422 naming `cursor` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        t, i = (int(part) for part in raw.split(":"))
        if not (0 <= t <= 2**62 and 1 <= i <= 2**62):
            raise ValueError("out of range")
        return t, i
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HTTPException(422, "cursor: not a cursor returned by this API") from None


Since = Annotated[
    IsoDateTime | None, Query(description="oldest taken_at to include (ISO 8601; UTC if no zone)")
]
Until = Annotated[
    IsoDateTime | None, Query(description="newest taken_at to include (ISO 8601; UTC if no zone)")
]


@router.get(
    "",
    response_model=CheckPage,
    summary="Checks, newest first, one page at a time",
    responses=error_responses(404, 422),
    dependencies=[cache_until_next_check()],
)
async def list_checks(
    read: Read,
    monitor: MonitorDep,
    host: HostQuery = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=10000, description="page size, 1..10000")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> CheckPage:
    """A page of checks newest first; stable under concurrent inserts (keyset on taken_at, id)."""
    t0, t1 = time_range(since, until)
    before = decode_cursor(cursor) if cursor else None

    def page(conn: Connection) -> CheckPage:
        name = resolve_host(conn, monitor, host)
        items = store.list_checks(conn=conn, host=name, since=t0, until=t1, limit=limit, before=before)
        last = items[-1] if len(items) == limit else None
        nxt = encode_cursor(int(last.taken_at), last.id) if last is not None and last.id else None
        return CheckPage(items=[CheckOut.of(c) for c in items], next_cursor=nxt)

    return await read(page)


@router.get(
    "/latest",
    response_model=CheckOut,
    summary="The newest check",
    responses=error_responses(404, 422),
    dependencies=[cache_until_next_check()],
)
async def latest_check(read: Read, monitor: MonitorDep, host: HostQuery = None) -> CheckOut:
    """The newest stored check of `host`; 404 when it has none."""

    def newest(conn: Connection) -> CheckOut:
        name = resolve_host(conn, monitor, host)
        items = store.list_checks(conn=conn, host=name, limit=1)
        if not items:
            raise HTTPException(404, f"host: no checks yet for {name!r}")
        return CheckOut.of(items[0])

    return await read(newest)


@router.get(
    "/{check_id}",
    response_model=CheckOut,
    summary="One check by id",
    responses=error_responses(404, 422),
)
async def get_check(
    read: Read, check_id: Annotated[int, Path(ge=1, le=2**62, description="the check's id")]
) -> CheckOut:
    """The check with id `check_id` (of any host; not cached: its host may be another's)."""
    check = await read(lambda conn: store.get_check(conn=conn, check_id=check_id))
    if check is None:
        raise HTTPException(404, f"check_id: no check with id {check_id}")
    return CheckOut.of(check)
