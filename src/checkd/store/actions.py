"""The audit log of service actions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from checkd.models import actions, hosts
from checkd.store import dims


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action attempt, refused ones included."""

    at_ms: int
    actor: str
    service: str
    action: str
    ok: bool
    status: int
    state: str | None
    exit_code: int | None
    duration_ms: int
    message: str
    output: str
    host: str = ""
    id: int | None = None


def record_action(*, conn: Connection, host: str, entry: AuditEntry) -> int:
    """Append `entry` for `host` to the audit log (caller commits); return its id."""
    hid = dims.host_id(conn=conn, name=host)
    values = {k: v for k, v in entry.__dict__.items() if k not in ("host", "id")}
    stmt = insert(actions).values(host_id=hid, **values).returning(actions.c.id)
    return int(conn.execute(stmt).scalar_one())


def list_actions(*, conn: Connection, host: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest `limit` audit entries, newest first, of `host` (or of every host)."""
    q = select(actions, hosts.c.name.label("host_name")).join(hosts, hosts.c.id == actions.c.host_id)
    if host is not None:
        q = q.where(hosts.c.name == host)
    q = q.order_by(actions.c.at_ms.desc(), actions.c.id.desc()).limit(limit)
    out = []
    for r in conn.execute(q).mappings():
        out.append(
            AuditEntry(
                id=r["id"],
                host=r["host_name"],
                at_ms=r["at_ms"],
                actor=r["actor"],
                service=r["service"],
                action=r["action"],
                ok=r["ok"],
                status=r["status"],
                state=r["state"],
                exit_code=r["exit_code"],
                duration_ms=r["duration_ms"],
                message=r["message"],
                output=r["output"],
            )
        )
    return out
