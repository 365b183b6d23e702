"""Scopes and the failed-authentication limiter (pure logic; server tests: tests/api/test_scopes.py)."""

from __future__ import annotations

import pytest

from checkd.api.authn import FailureLimiter, Principal, VerifiedTokens, bearer_of
from checkd.tokens import SCOPES, grants, token_name_ok


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        ("read", {"read"}),
        ("operate", {"read", "operate"}),
        ("admin", {"read", "operate", "admin", "ingest"}),
        ("ingest", {"ingest"}),
        ("nonsense", set()),
    ],
)
def test_what_each_scope_grants(scope: str, allowed: set[str]) -> None:
    assert {needed for needed in SCOPES if grants(scope, needed)} == allowed


@pytest.mark.parametrize(
    ("name", "ok"),
    [("ops", True), ("a.b-c_d", True), ("", False), ("-x", False), ("a b", False), ("x" * 65, False)],
)
def test_token_names(name: str, ok: bool) -> None:
    assert token_name_ok(name) is ok


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Bearer", None),
        ("Basic abc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_of(header: str | None, token: str | None) -> None:
    assert bearer_of(header) == token


def test_the_limiter_blocks_after_the_limit_and_forgets_after_the_window() -> None:
    limiter = FailureLimiter(limit=3, window_s=60)
    for t in (0.0, 1.0, 2.0):
        assert limiter.retry_after("10.0.0.1", now=t) is None
        limiter.failed("10.0.0.1", now=t)
    assert limiter.retry_after("10.0.0.1", now=3.0) == 57
    assert limiter.retry_after("10.0.0.2", now=3.0) is None  # per client
    assert limiter.retry_after("10.0.0.1", now=60.5) is None  # the first failure left the window
    assert limiter.retry_after("10.0.0.1", now=200.0) is None
    assert limiter.tracked() == 0  # and the client was forgotten


def test_the_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(limit=3, window_s=60, max_clients=100)
    for i in range(10_000):
        limiter.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", now=1.0)
    assert limiter.tracked() == 100
    for _ in range(3):
        limiter.failed("192.0.2.1", now=2.0)
    assert limiter.retry_after("192.0.2.1", now=2.0) is not None


def test_a_verified_token_is_remembered_for_its_ttl_then_forgotten() -> None:
    verified = VerifiedTokens(ttl_s=5.0, max_entries=2)
    feeder = Principal(name="feeder", scope="ingest", host="web-1", token_hash="aa")
    verified.put("aa", feeder, now=100.0)
    assert verified.get("aa", now=104.9) == feeder
    assert verified.get("aa", now=105.0) is None
    assert verified.get("aa", now=101.0) is None  # forgotten once expired, not revived


def test_verified_tokens_are_bounded_oldest_first() -> None:
    verified = VerifiedTokens(ttl_s=60.0, max_entries=2)
    for n, digest in enumerate(("a", "b", "c")):
        verified.put(digest, Principal(name=digest, scope="ingest", token_hash=digest), now=float(n))
    assert [verified.get(d, now=3.0) is not None for d in ("a", "b", "c")] == [False, True, True]
