"""Who a request is: the admin token or a named token with a scope; failed attempts are rate limited."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from checkd.auth import token_matches
from checkd.db import describe_database_error
from checkd.monitor import Monitor
from checkd.store.tokens import find_token
from checkd.tokens import hash_secret

FAILURE_WINDOW_S = 60.0
# At most this many clients are remembered; the least recently failing one is forgotten first.
MAX_TRACKED_CLIENTS = 4096
# An ingest token verified this recently is not looked up again (agents push often). Its
# revocation still takes effect at once, whichever process revokes it: every route an ingest token
# may call checks the token again in the statement that acts (a push's write, an action's take or
# result: store.tokens.token_held), and a route that finds it gone forgets it here (`revoked`).
# Other tokens are looked up on every request.
VERIFIED_TTL_S = 5.0
MAX_VERIFIED = 4096


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a token name, its scope, and (ingest tokens only) its host."""

    name: str
    scope: str
    host: str | None = None
    is_admin_token: bool = False  # the configured or generated token, not a named one
    token_hash: str | None = None  # a named token's stored hash (None for the admin token)


class AuthRefused(Exception):
    """The request is refused: status, a `detail` naming the header, and response headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class FailureLimiter:
    """Counts failed authentications per client address in a sliding window (bounded memory)."""

    def __init__(
        self, limit: int, window_s: float = FAILURE_WINDOW_S, max_clients: int = MAX_TRACKED_CLIENTS
    ):
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> int | None:
        """Seconds until `client` may try again, or None when it is not blocked."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return None
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if not times:
                del self._failures[client]
                return None
            if len(times) < self.limit:
                return None
            return max(1, int(self.window_s - (now - times[0]) + 0.999))

    def failed(self, client: str, now: float | None = None) -> None:
        """Record one failed authentication by `client`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.pop(client, None) or deque(maxlen=self.limit)
            times.append(now)
            self._failures[client] = times  # most recent last
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def tracked(self) -> int:
        """How many clients are remembered now."""
        return len(self._failures)


class VerifiedTokens:
    """Ingest tokens verified in the last `ttl_s` seconds, by hash (bounded: the oldest go first)."""

    def __init__(self, ttl_s: float = VERIFIED_TTL_S, max_entries: int = MAX_VERIFIED) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._found: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, now: float | None = None) -> Principal | None:
        """The principal of a token with hash `digest` verified less than ttl_s ago, or None."""
        now = time.monotonic() if now is None else now
        with self._lock:
            found = self._found.get(digest)
            if found is None:
                return None
            if now - found[0] >= self.ttl_s:
                del self._found[digest]
                return None
            return found[1]

    def put(self, digest: str, principal: Principal, now: float | None = None) -> None:
        """Remember that the token with hash `digest` is `principal`, as of now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._found.pop(digest, None)
            self._found[digest] = (now, principal)
            while len(self._found) > self.max_entries:
                self._found.popitem(last=False)

    def forget(self, digest: str) -> None:
        """Forget the token with hash `digest` (it was revoked): it is looked up again next time."""
        with self._lock:
            self._found.pop(digest, None)


def bearer_of(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


class Authenticator:
    """Checks a presented token: the admin token first, then named tokens in the database."""

    def __init__(self, monitor: Monitor, admin_token: str, limiter: FailureLimiter) -> None:
        self.monitor = monitor
        self.admin_token = admin_token
        self.limiter = limiter
        self.verified = VerifiedTokens()

    def authenticate(self, header: str | None, client: str) -> Principal:
        """The caller of a request with this Authorization header; raises AuthRefused (401/429/503)."""
        token, found = self._known(header, client)
        return found if found is not None else self._look_up(token, client)

    async def authenticate_async(self, header: str | None, client: str) -> Principal:
        """`authenticate`, looking a named token up in the database off the event loop."""
        token, found = self._known(header, client)
        return found if found is not None else await run_in_threadpool(self._look_up, token, client)

    def revoked(self, principal: Principal) -> AuthRefused:
        """The refusal of a request whose named token a route found revoked; the token is forgotten."""
        if principal.token_hash is not None:
            self.verified.forget(principal.token_hash)
        return AuthRefused(401, "Authorization: this token was revoked", {"WWW-Authenticate": "Bearer"})

    def _known(self, header: str | None, client: str) -> tuple[str, Principal | None]:
        """The bearer token and, without SQL, its principal if it is the admin token or verified
        recently (else None); AuthRefused when there is none, too many failures, or no database."""
        token = bearer_of(header)
        if token is None:
            raise AuthRefused(401, "Authorization: missing bearer token", {"WWW-Authenticate": "Bearer"})
        wait = self.limiter.retry_after(client)
        if wait is not None:
            raise AuthRefused(
                429, f"Authorization: too many failed attempts; retry in {wait}s", {"Retry-After": str(wait)}
            )
        if token_matches(token, self.admin_token):
            return token, Principal(name="admin", scope="admin", is_admin_token=True)
        if not self.monitor.ready.is_set():
            reason = self.monitor.database_error or "starting up"
            raise AuthRefused(503, f"database unavailable (named tokens cannot be checked): {reason}")
        return token, self.verified.get(hash_secret(token))

    def _look_up(self, token: str, client: str) -> Principal:
        """A named token's principal from the database (an ingest token's is remembered)."""
        try:
            with self.monitor.engine.connect() as conn:
                found = find_token(conn=conn, secret=token)
        except SQLAlchemyError as exc:
            reason = describe_database_error(exc, self.monitor.engine.url).removeprefix("database: ")
            raise AuthRefused(
                503, f"database unavailable (named tokens cannot be checked): {reason}"
            ) from exc
        if found is None:
            self.limiter.failed(client)
            raise AuthRefused(401, "Authorization: wrong token", {"WWW-Authenticate": "Bearer"})
        digest = hash_secret(token)
        principal = Principal(name=found.name, scope=found.scope, host=found.host, token_hash=digest)
        if found.scope == "ingest":
            self.verified.put(digest, principal)
        return principal
