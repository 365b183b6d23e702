"""/api/v2/processes: the top processes by cpu or memory, read live; cmdline only for a token holder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from checkd.api.deps import MonitorDep, authenticate
from checkd.api.respond import error_responses
from checkd.probe_schemas import ProcessOut
from checkd.probes.processes import ProcessesUnreadable, ProcessSort
from checkd.tokens import grants

router = APIRouter(prefix="/api/v2/processes", tags=["processes"])


@router.get(
    "",
    response_model=list[ProcessOut],
    summary="Top processes, read live",
    responses=error_responses(401, 403, 422, 429, 503),
)
def processes(
    request: Request,
    monitor: MonitorDep,
    sort: Annotated[
        ProcessSort, Query(description="order by cpu (percent) or memory (resident bytes)")
    ] = "cpu",
    limit: Annotated[int, Query(ge=1, le=1000, description="how many, 1..1000")] = 10,
) -> list[ProcessOut]:
    """The `limit` processes using the most cpu or memory now. Command lines can hold secrets: they
    are shown only when the request carries a valid token with the read scope (a wrong one is 401).
    503 when the process table cannot be read at all (counted, logged)."""
    show_cmdline = False
    if request.headers.get("authorization"):
        show_cmdline = grants(authenticate(request).scope, "read")
    try:
        rows = monitor.processes.top(sort, limit, cmdline=show_cmdline)
    except ProcessesUnreadable as exc:
        raise HTTPException(503, f"processes: cannot be read ({exc})") from None
    return [ProcessOut.of(p) for p in rows]
