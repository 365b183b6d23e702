"""API token scopes, and how named tokens are made and kept (only a SHA-256 hash is stored)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Literal, get_args

Scope = Literal["read", "operate", "admin", "ingest"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
TOKEN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
# 32 random bytes: a hash of that much entropy needs no salt or slow KDF to resist guessing.
NAMED_TOKEN_BYTES = 32

# What each scope may do: admin everything, operate also reads, ingest only writes its host's checks.
_GRANTS: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "operate": frozenset({"read", "operate"}),
    "admin": frozenset(SCOPES),
    "ingest": frozenset({"ingest"}),
}


def grants(scope: str, needed: str) -> bool:
    """True when a token of `scope` may do what needs `needed`."""
    return needed in _GRANTS.get(scope, frozenset())


def token_name_ok(name: str) -> bool:
    """A token name: letters, digits and `._-`, at most 64 characters."""
    return bool(TOKEN_NAME_RE.match(name))


def new_secret() -> str:
    """A fresh high-entropy token, shown to its owner once."""
    return secrets.token_urlsafe(NAMED_TOKEN_BYTES)


def hash_secret(secret: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hashes_match(given_hash: str, stored_hash: str) -> bool:
    """Constant-time comparison of two token hashes."""
    return hmac.compare_digest(given_hash.encode("ascii"), stored_hash.encode("ascii"))
