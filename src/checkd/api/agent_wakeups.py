"""Agents' long polls wait here between reads: woken by the database's notifications where it
sends them (PostgreSQL's LISTEN, one session per collector), else read on a short timer.

A poll registers before it reads, and its wake-up is cleared before each read, so an action
queued while it reads wakes it again at once: nothing queued is left waiting for the timer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from checkd.monitor import Monitor
from checkd.store.backends import AgentsListening, backend_for

POLL_S = 0.5  # without notifications (SQLite, or the listening session lost): a read this often
# With notifications, a read this often anyway: for a revocation by a checkd that does not notify
# (each take checks the token, so none is ever handed an action; this bounds how long it waits).
LISTENING_POLL_S = 5.0

_Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Event]


class AgentWakeups:
    """The waiting polls of this process by host, and (on PostgreSQL) the one listener waking them."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self._waiting: dict[str, set[_Waiter]] = {}
        self._lock = threading.Lock()
        self._listener: AgentsListening | None = None
        self._started = False  # the listener was asked for (once: None where the database has none)
        self._closed = False

    @property
    def listening(self) -> bool:
        """True while notifications wake the polls."""
        return self._listener is not None and self._listener.listening.is_set()

    @contextmanager
    def watching(self, host: str) -> Iterator[asyncio.Event]:
        """An event set when something for `host`'s agent may have changed (call in the event loop)."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiting.setdefault(host, set()).add(waiter)
            if not self._started and not self._closed:
                self._started = True  # on the first poll: a collector no agent polls never listens
                engine = self.monitor.engine
                self._listener = backend_for(engine).listen_for_agents(
                    engine, self._wake, self.monitor.fleet_alerts.record_fault
                )
        try:
            yield waiter[1]
        finally:
            with self._lock:
                waiting = self._waiting.get(host)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiting[host]

    async def wait(self, woken: asyncio.Event, limit_s: float) -> None:
        """Until `woken` is set, the timer's next read is due, or `limit_s` passes."""
        step = LISTENING_POLL_S if self.listening else POLL_S
        with suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), max(0.0, min(step, limit_s)))

    def _wake(self, host: str | None) -> None:
        """From the listener's thread: wake `host`'s polls (every poll for None)."""
        with self._lock:
            if host is None:
                waiters = [w for waiting in self._waiting.values() for w in waiting]
            else:
                waiters = list(self._waiting.get(host, ()))
        for loop, event in waiters:
            with suppress(RuntimeError):  # that loop is closed: its poll is gone
                loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        """Stop listening (at shutdown)."""
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
