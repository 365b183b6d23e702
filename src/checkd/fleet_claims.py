"""Which fleet hosts this collector evaluates alert rules for, when several collectors share a database.

Each claim is a lock the database holds for one session (on PostgreSQL a session-level advisory
lock keyed by the host's id), taken on a connection kept open for it: when the collector dies its
session ends and its hosts can be claimed by another collector at their next push."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, select

from checkd.store import dims
from checkd.store.backends import backend_for

log = logging.getLogger(__name__)


class HostClaims:
    """The claims of one collector, on the one connection it keeps for them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = backend_for(engine)
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # one session, used by the fleet alerts' thread and stop()

    def _session(self) -> Connection:
        if self._conn is None:
            # Autocommit: the session holds the claims, never an open transaction.
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def take(self, host: str) -> bool:
        """Claim `host` unless another collector holds it; True when this one holds it now."""
        with self._lock:
            conn = self._session()
            host_id = dims.host_id(conn=conn, name=host, create=False)
            return host_id is not None and self.backend.try_claim(conn, host_id)

    def alive(self) -> bool:
        """True while the session holding the claims lasts; False once it was lost (every claim with it)."""
        with self._lock:
            if self._conn is None:
                return True  # nothing held, nothing lost
            try:
                self._conn.execute(select(1))
                return True
            except Exception as exc:  # the database went away: its session, and the claims, are gone
                log.warning("fleet host claims: %s", f"{type(exc).__name__}: {exc}".splitlines()[0])
                self._drop()
                return False

    def close(self) -> None:
        """Give every claim back (the session ends)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        # Invalidate, not close: a pooled connection would keep the session, and with it the claims.
        if self._conn is not None:
            try:
                self._conn.invalidate()
            finally:
                self._conn = None
