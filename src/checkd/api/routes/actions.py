"""/api/v2/actions: the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Connection

from checkd import store
from checkd.api.deps import MonitorDep, Read, resolve_host
from checkd.api.respond import error_responses
from checkd.schemas import AuditOut, utc

router = APIRouter(prefix="/api/v2", tags=["actions"])


@router.get(
    "/actions",
    response_model=list[AuditOut],
    summary="Audit log, newest first",
    responses=error_responses(404, 422),
)
async def list_actions(
    read: Read,
    monitor: MonitorDep,
    limit: Annotated[int, Query(ge=1, le=10000, description="how many entries, 1..10000")] = 50,
    host: Annotated[
        str | None, Query(min_length=1, max_length=255, description="only this host's (default: every host)")
    ] = None,
) -> list[AuditOut]:
    """Every service action attempt (refused ones included), newest first."""

    def entries(conn: Connection) -> list[store.AuditEntry]:
        if host is not None:
            resolve_host(conn, monitor, host)  # 404 naming `host` when the database has never seen it
        return store.list_actions(conn=conn, host=host, limit=limit)

    return [
        AuditOut(
            id=e.id or 0,
            host=e.host,
            at=utc(e.at_ms / 1000),
            actor=e.actor,
            service=e.service,
            action=e.action,
            ok=e.ok,
            status=e.status,
            state=e.state,
            exit_code=e.exit_code,
            duration_ms=e.duration_ms,
            message=e.message,
        )
        for e in await read(entries)
    ]
