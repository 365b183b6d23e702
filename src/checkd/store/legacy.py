"""Bookkeeping of rows imported from the exam system's database (so re-imports add nothing)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, select

from checkd.models import legacy_imports
from checkd.store import dims


def imported_legacy_ids(*, conn: Connection, host: str) -> set[int]:
    """Legacy row ids already imported under `host`."""
    hid = dims.host_id(conn=conn, name=host, create=False)
    if hid is None:
        return set()
    rows = conn.execute(select(legacy_imports.c.legacy_id).where(legacy_imports.c.host_id == hid))
    return {int(r[0]) for r in rows}


def mark_legacy_imported(*, conn: Connection, host: str, legacy_ids: Iterable[int]) -> None:
    """Record `legacy_ids` as imported under `host` (caller commits with the checks)."""
    hid = dims.host_id(conn=conn, name=host)
    rows = [{"host_id": hid, "legacy_id": i} for i in legacy_ids]
    if rows:
        conn.execute(insert(legacy_imports), rows)
