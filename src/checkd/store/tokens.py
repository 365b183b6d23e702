"""Named API tokens: create, revoke, list and look up by hash (the token itself is never stored)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, delete, exists, insert, select, true
from sqlalchemy.exc import IntegrityError

from checkd.models import api_tokens
from checkd.store.backends import backend_for
from checkd.tokens import hash_secret, hashes_match, new_secret


class TokenNameTaken(Exception):
    """A token with this name exists already."""


class TokenGone(Exception):
    """The named token a request came with no longer exists (revoked): nothing was done."""


@dataclass(frozen=True)
class NamedToken:
    """A named token as stored: never its secret."""

    name: str
    scope: str
    host: str | None
    created_at: int


def create_token(*, conn: Connection, name: str, scope: str, host: str | None = None) -> str:
    """Store a new token named `name` (caller commits) and return its secret, the only time it exists."""
    secret = new_secret()
    try:
        with conn.begin_nested():
            conn.execute(
                insert(api_tokens).values(
                    name=name,
                    scope=scope,
                    host=host,
                    token_hash=hash_secret(secret),
                    created_at=int(time.time()),
                )
            )
    except IntegrityError:
        raise TokenNameTaken(name) from None
    return secret


def revoke_token(*, conn: Connection, name: str) -> bool:
    """Delete the token named `name` (caller commits; an ingest token's waiting action polls wake
    then, and refuse it); False when there is none."""
    gone = conn.execute(
        delete(api_tokens).where(api_tokens.c.name == name).returning(api_tokens.c.host)
    ).all()
    for (host,) in gone:
        if host is not None:
            backend_for(conn).wake_agents(conn, host)
    return bool(gone)


def token_held(token_hash: str | None, *, lock: bool = False) -> ColumnElement[bool]:
    """SQL true while the named token with hash `token_hash` exists (always, for None: the admin
    token). With `lock`, a statement that finds it holds it (FOR KEY SHARE) until its transaction
    ends, so a revocation either waits for that statement or is seen by it: never both."""
    if token_hash is None:
        return true()
    found = select(api_tokens.c.id).where(api_tokens.c.token_hash == token_hash)
    return exists(found.with_for_update(read=True, key_share=True) if lock else found)


def list_tokens(*, conn: Connection) -> list[NamedToken]:
    """Every named token, oldest first."""
    rows = conn.execute(
        select(api_tokens.c.name, api_tokens.c.scope, api_tokens.c.host, api_tokens.c.created_at).order_by(
            api_tokens.c.created_at, api_tokens.c.id
        )
    )
    return [NamedToken(name=r.name, scope=r.scope, host=r.host, created_at=r.created_at) for r in rows]


def find_token(*, conn: Connection, secret: str) -> NamedToken | None:
    """The named token whose secret is `secret`, or None."""
    digest = hash_secret(secret)
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest)).first()
    if row is None or not hashes_match(digest, row.token_hash):
        return None
    return NamedToken(name=row.name, scope=row.scope, host=row.host, created_at=row.created_at)
