"""Named tokens in the store (SQLite and PostgreSQL): only hashes are kept; create, find, list, revoke."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from checkd.models import api_tokens
from checkd.store.tokens import TokenNameTaken, create_token, find_token, list_tokens, revoke_token
from checkd.tokens import hash_secret


def test_a_created_token_is_found_by_its_secret_and_only_its_hash_is_stored(engine: Engine) -> None:
    with engine.begin() as conn:
        secret = create_token(conn=conn, name="ops", scope="operate")
    assert len(secret) >= 40
    with engine.connect() as conn:
        stored = conn.execute(select(api_tokens)).mappings().all()
        found = find_token(conn=conn, secret=secret)
        assert find_token(conn=conn, secret=secret + "x") is None
    assert len(stored) == 1
    assert secret not in {str(v) for v in stored[0].values()}
    assert stored[0]["token_hash"] == hash_secret(secret)
    assert found is not None
    assert (found.name, found.scope, found.host) == ("ops", "operate", None)


def test_two_tokens_never_share_a_secret_and_names_are_unique(engine: Engine) -> None:
    with engine.begin() as conn:
        a = create_token(conn=conn, name="a", scope="read")
        b = create_token(conn=conn, name="b", scope="read")
        with pytest.raises(TokenNameTaken):
            create_token(conn=conn, name="a", scope="admin")
    assert a != b
    with engine.connect() as conn:
        assert [t.name for t in list_tokens(conn=conn)] == ["a", "b"]


def test_revoke_removes_the_token(engine: Engine) -> None:
    with engine.begin() as conn:
        secret = create_token(conn=conn, name="feeder", scope="ingest", host="web-1")
    with engine.connect() as conn:
        listed = list_tokens(conn=conn)
    assert [(t.name, t.scope, t.host) for t in listed] == [("feeder", "ingest", "web-1")]
    with engine.begin() as conn:
        assert revoke_token(conn=conn, name="feeder") is True
        assert revoke_token(conn=conn, name="feeder") is False
    with engine.connect() as conn:
        assert find_token(conn=conn, secret=secret) is None
        assert list_tokens(conn=conn) == []
