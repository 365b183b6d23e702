"""/api/v2/hosts: every host that has written to this database."""

from __future__ import annotations

from fastapi import APIRouter

from checkd import store
from checkd.api.deps import Read
from checkd.schemas import HostOut, utc

router = APIRouter(prefix="/api/v2", tags=["hosts"])


@router.get("/hosts", response_model=list[HostOut], summary="Hosts in this database")
async def list_hosts(read: Read) -> list[HostOut]:
    """Each host with its newest check time and number of stored checks."""
    summaries = await read(lambda conn: store.host_summaries(conn=conn))
    return [HostOut(name=n, last_check_at=utc(t), checks=c) for n, t, c in summaries]
