"""PostgreSQL's wake-up for agents' long polls: NOTIFY a host's name, LISTEN on one session.

Queueing an action for a host, or revoking its ingest token, notifies the channel inside that
transaction, so every collector listening hears it when (and only if) it commits. A collector
keeps one session LISTENing (not one per waiting agent) and passes each host name on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, func, select

AGENTS_CHANNEL = "checkd_agents"
_NOTIFIES_WAIT_S = 1.0  # how long one wait for notifications lasts before the stop flag is read
RETRY_S = 5.0  # after the listening session failed, the next try waits this long


def notify_agents(conn: Connection, host: str) -> None:
    """NOTIFY AGENTS_CHANNEL with `host`, delivered when `conn`'s transaction commits."""
    conn.execute(select(func.pg_notify(AGENTS_CHANNEL, host)))


class AgentsListener:
    """One thread with one session LISTENing on AGENTS_CHANNEL: `woken(host)` for each
    notification, and `woken(None)` each time it starts listening (what was notified while it was
    not is lost, so every waiter should look again). `listening` is set while it listens."""

    def __init__(
        self, engine: Engine, woken: Callable[[str | None], None], fault: Callable[[str], None]
    ) -> None:
        self.engine = engine
        self.woken = woken
        self.fault = fault  # told why, each time the session fails (it is tried again)
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkd-agents-listen", daemon=True)

    def start(self) -> None:
        """Start listening (in its thread)."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening; the session ends."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the database went away: waiters read on their timer meanwhile
                why = f"{type(exc).__name__}: {exc}".splitlines()[0]
                self.fault(f"agents' wake-ups: {why}; polls read every half second until it listens again")
                self._stop.wait(RETRY_S)

    def _listen(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            try:
                conn.exec_driver_sql(f"LISTEN {AGENTS_CHANNEL}")
                session: Any = conn.connection.driver_connection  # psycopg's Connection
                self.listening.set()
                self.woken(None)
                while not self._stop.is_set():
                    for note in session.notifies(timeout=_NOTIFIES_WAIT_S):
                        self.woken(note.payload)
            finally:
                self.listening.clear()
                conn.invalidate()  # a listening session never goes back to the pool
