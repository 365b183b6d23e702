"""The sampler's persisted running state and interval, per host."""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy import insert as sa_insert

from checkd.models import sampler_state
from checkd.store import dims


def load_sampler_state(*, conn: Connection, host: str) -> tuple[bool, int] | None:
    """(running, interval_s) last set for `host`, or None if never set."""
    hid = dims.host_id(conn=conn, name=host)
    row = conn.execute(
        select(sampler_state.c.running, sampler_state.c.interval_s).where(sampler_state.c.host_id == hid)
    ).first()
    return None if row is None else (bool(row[0]), int(row[1]))


def save_sampler_state(*, conn: Connection, host: str, running: bool, interval_s: int) -> None:
    """Remember `host`'s sampler state so it survives a restart (caller commits)."""
    hid = dims.host_id(conn=conn, name=host)
    values = {"running": running, "interval_s": interval_s}
    done = conn.execute(update(sampler_state).where(sampler_state.c.host_id == hid).values(values))
    if done.rowcount == 0:
        conn.execute(sa_insert(sampler_state).values(host_id=hid, **values))
