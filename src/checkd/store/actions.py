"""The audit log of service actions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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

    @classmethod
    def instant(
        cls,
        actor: str,
        service: str,
        action: str,
        status: int,
        message: str,
        *,
        ok: bool = False,
        state: str | None = None,
    ) -> AuditEntry:
        """The entry, stamped now, for what ran no command: a refusal (403, 404, 409) by default, or
        a sampler start/stop."""
        return cls(
            at_ms=int(time.time() * 1000),
            actor=actor,
            service=service[:300],
            action=action,
            ok=ok,
            status=status,
            state=state,
            exit_code=None,
            duration_ms=0,
            message=message,
            output="",
        )

    @classmethod
    def of_outcome(cls, actor: str, service: str, action: str, outcome: ActionOutcome) -> AuditEntry:
        """The entry for an action that ran (here, or on a fleet host by its agent)."""
        return cls(
            at_ms=int(outcome.at.timestamp() * 1000),
            actor=actor,
            service=service,
            action=action,
            ok=outcome.ok,
            status=outcome.status,
            state=str(outcome.state.value),
            exit_code=outcome.exit_code,
            duration_ms=outcome.duration_ms,
            message=outcome.message,
            output=outcome.output,
        )


class _State(Protocol):
    @property
    def value(self) -> str: ...


class ActionOutcome(Protocol):
    """What a run action reports (control's ActionResult, an agent's posted result)."""

    @property
    def at(self) -> datetime: ...
    @property
    def ok(self) -> bool: ...
    @property
    def status(self) -> int: ...
    @property
    def state(self) -> _State: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def output(self) -> str: ...


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
