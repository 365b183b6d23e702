"""checkd.store.agent_actions: an action is taken once, and never by a revoked token, even one
revoked while the take runs (real SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, select

from checkd.models import agent_actions
from checkd.store.agent_actions import finish_action, queue_action, take_actions
from checkd.store.tokens import TokenGone, create_token, revoke_token
from checkd.tokens import hash_secret


def _token(engine: Engine, host: str) -> str:
    with engine.begin() as conn:
        return hash_secret(create_token(conn=conn, name=f"ingest-{host}", scope="ingest", host=host))


def _queue(engine: Engine, host: str) -> int:
    with engine.begin() as conn:
        now = time.time()
        return queue_action(
            conn=conn, host=host, service="web", action="start", actor="api", now=now, expires_at=now + 60
        )


def _status(engine: Engine, action_id: int) -> str:
    with engine.connect() as conn:
        query = select(agent_actions.c.status).where(agent_actions.c.id == action_id)
        return str(conn.execute(query).scalar_one())


def _take(engine: Engine, host: str, token: str | None) -> list[int]:
    with engine.begin() as conn:
        return [a.id for a in take_actions(conn=conn, host=host, now=time.time(), token_hash=token)]


def test_an_action_is_taken_once_and_answered(engine: Engine) -> None:
    token = _token(engine, "web1")
    assert _take(engine, "web1", token) == []  # no such host yet: nothing, no error
    action_id = _queue(engine, "web1")
    assert _take(engine, "web1", token) == [action_id]
    assert _take(engine, "web1", token) == [] and _status(engine, action_id) == "taken"
    with engine.begin() as conn:
        assert finish_action(conn=conn, host="web1", action_id=action_id, result="{}", token_hash=token)
        assert not finish_action(conn=conn, host="web1", action_id=action_id, result="{}", token_hash=token)
    assert _status(engine, action_id) == "done"


def test_a_revoked_token_takes_and_answers_nothing(engine: Engine) -> None:
    token = _token(engine, "web2")
    taken = _queue(engine, "web2")
    assert _take(engine, "web2", token) == [taken]
    waiting = _queue(engine, "web2")
    with engine.begin() as conn:
        assert revoke_token(conn=conn, name="ingest-web2")
    with pytest.raises(TokenGone):
        _take(engine, "web2", token)
    with pytest.raises(TokenGone), engine.begin() as conn:
        finish_action(conn=conn, host="web2", action_id=taken, result="{}", token_hash=token)
    assert (_status(engine, taken), _status(engine, waiting)) == ("taken", "queued")
    assert _take(engine, "web2", None) == [waiting]  # the admin token has no row to revoke


def test_a_take_racing_a_revocation_in_flight_hands_out_nothing(engine: Engine) -> None:
    """The revocation has deleted the token but not committed when the take starts: the take waits
    for it (PostgreSQL: the token's row lock; SQLite: the write lock) and then finds it gone."""
    token = _token(engine, "web3")
    action_id = _queue(engine, "web3")
    got: dict[str, object] = {}

    def take() -> None:
        try:
            got["taken"] = _take(engine, "web3", token)
        except TokenGone:
            got["taken"] = "token gone"

    with engine.begin() as revoking:
        assert revoke_token(conn=revoking, name="ingest-web3")
        taker = threading.Thread(target=take)
        taker.start()
        taker.join(1.0)
        assert taker.is_alive(), f"the take did not wait for the revocation: {got}"
    taker.join(10)
    assert got["taken"] == [] and _status(engine, action_id) == "queued"
    with pytest.raises(TokenGone):
        _take(engine, "web3", token)
