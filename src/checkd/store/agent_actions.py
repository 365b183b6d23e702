"""The agents' action queue: a service action for a remote host, queued, taken by its agent, answered.

Collectors share it through the database, so the collector that queued an action need not be
the one its agent polls."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, exists, false, insert, select, update

from checkd.models import agent_actions
from checkd.store import dims
from checkd.store.backends import backend_for
from checkd.store.tokens import TokenGone, token_held


@dataclass(frozen=True)
class QueuedAction:
    """An action as its agent receives it."""

    id: int
    service: str
    action: str
    actor: str


@dataclass(frozen=True)
class ActionProgress:
    """Where a queued action is: queued, taken, done or expired, and the agent's result JSON."""

    status: str
    result: str | None


def queue_action(
    *, conn: Connection, host: str, service: str, action: str, actor: str, now: float, expires_at: float
) -> int:
    """Queue `action` on `service` for `host`'s agent (caller commits: its waiting polls wake); its id."""
    host_id = dims.host_id(conn=conn, name=host)
    stmt = (
        insert(agent_actions)
        .values(
            host_id=host_id,
            service=service,
            action=action,
            actor=actor,
            status="queued",
            queued_at=now,
            expires_at=expires_at,
        )
        .returning(agent_actions.c.id)
    )
    action_id = int(conn.execute(stmt).scalar_one())
    backend_for(conn).wake_agents(conn, host)
    return action_id


def take_actions(*, conn: Connection, host: str, now: float, token_hash: str | None) -> list[QueuedAction]:
    """Mark `host`'s queued, unexpired actions taken and return them (caller commits); each one
    is taken once, whichever collector its agent polls.

    `token_hash` is the polling named token's (None for the admin token). TokenGone when it no
    longer exists; the take itself holds the token (token_held's lock), so an action is never
    handed out once the revocation has committed, by whichever process."""
    host_id = dims.host_id(conn=conn, name=host, create=False)
    pending = agent_actions.c.status == "queued", agent_actions.c.expires_at >= now
    waiting = false() if host_id is None else exists().where(agent_actions.c.host_id == host_id, *pending)
    # A poll that finds nothing (most of them) only reads.
    token_ok, any_waiting = conn.execute(select(token_held(token_hash), waiting)).one()
    if not token_ok:
        raise TokenGone
    if not any_waiting:
        return []
    rows = conn.execute(
        update(agent_actions)
        .where(agent_actions.c.host_id == host_id, *pending, token_held(token_hash, lock=True))
        .values(status="taken", taken_at=now)
        .returning(agent_actions.c.id, agent_actions.c.service, agent_actions.c.action, agent_actions.c.actor)
    ).all()
    return sorted((QueuedAction(int(r.id), r.service, r.action, r.actor) for r in rows), key=lambda a: a.id)


def finish_action(
    *, conn: Connection, host: str, action_id: int, result: str, token_hash: str | None
) -> bool:
    """Store the agent's result of a taken action (caller commits); False when `host` took no such
    action; TokenGone when the answering named token (`token_hash`, None for the admin token) no
    longer exists, storing nothing."""
    host_id = dims.host_id(conn=conn, name=host, create=False)
    done = conn.execute(
        update(agent_actions)
        .where(
            agent_actions.c.id == action_id,
            agent_actions.c.host_id == host_id,
            agent_actions.c.status == "taken",
            token_held(token_hash, lock=True),
        )
        .values(status="done", result=result)
    )
    if done.rowcount > 0:
        return True
    if not conn.execute(select(token_held(token_hash))).scalar_one():
        raise TokenGone
    return False


def expire_action(*, conn: Connection, action_id: int) -> bool:
    """Expire an action no agent took (caller commits); False when it was taken meanwhile."""
    done = conn.execute(
        update(agent_actions)
        .where(agent_actions.c.id == action_id, agent_actions.c.status == "queued")
        .values(status="expired")
    )
    return done.rowcount > 0


def action_progress(*, conn: Connection, action_id: int) -> ActionProgress | None:
    """The action's status and result, or None."""
    row = conn.execute(
        select(agent_actions.c.status, agent_actions.c.result).where(agent_actions.c.id == action_id)
    ).first()
    return None if row is None else ActionProgress(row.status, row.result)
