"""DatabaseFileGuard: a SQLite file deleted or replaced while checkd runs is noticed and recreated."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import QueuePool

from checkd import store
from checkd.db import DatabaseError, SqliteFileWatch, sqlite_file_watch, upgrade_in_child

log = logging.getLogger(__name__)

_DRAIN_S = 10.0  # how long connections still in use on the old file are waited for
_GATE_S = 60.0  # how long a new connection waits while the file is being recreated


class DatabaseFileGuard:
    """Checks the file's identity (cheap: one stat); when it is gone, recreates a migrated, empty
    database at the path, loudly, and keeps `note` for /healthz until the process restarts.

    Every connection to the old file is closed before anything opens the path again: an old
    connection closing later would delete the new file's -wal and -shm by name."""

    def __init__(self, engine: Engine, watch: SqliteFileWatch, release: Callable[[], None]) -> None:
        self.engine = engine
        self.watch = watch
        self.release = release  # closes connections held outside the pool (the sampler's writer)
        self.note: str | None = None
        self.recreated_total = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        event.listen(engine, "do_connect", self._wait_for_file)

    @classmethod
    def of(cls, engine: Engine, release: Callable[[], None]) -> DatabaseFileGuard | None:
        """A guard for `engine`'s SQLite file; None for databases that are not a local file."""
        watch = sqlite_file_watch(engine)
        return None if watch is None else cls(engine, watch, release)

    def _wait_for_file(self, *_args: Any) -> None:
        self._open.wait(_GATE_S)

    def opened(self) -> None:
        """The database at the path is the one in use now (after start-up's migration)."""
        self.watch.remember()

    def check(self) -> None:
        """Recreate the database if its file was deleted or replaced since it was opened."""
        if self.watch.problem() is None:
            return
        with self._lock:
            what = self.watch.problem()
            if what is None:
                return  # another thread has just dealt with it
            try:
                self._recreate(what)
            except DatabaseError as exc:  # e.g. the directory went too: retried at the next check
                self.note = f"{self.watch.path} was {what}; cannot recreate it: {exc}"
                log.critical("%s", self.note)

    def _recreate(self, what: str) -> None:
        path = self.watch.path
        log.critical(
            "database file %s was %s while checkd ran; what was written to it is gone. "
            "Opening the file now at that path (a new, empty one if there is none)",
            path,
            what,
        )
        self._open.clear()  # new connections wait until the file is ready
        try:
            old_pool = self.engine.pool
            in_use = old_pool.checkedout() if isinstance(old_pool, QueuePool) else 0
            self.engine.dispose()  # closes the idle connections; a connection in use returns later
            self.release()
            deadline = time.monotonic() + _DRAIN_S
            # Returned connections wait in the old pool (its counters restart at dispose).
            while isinstance(old_pool, QueuePool) and old_pool.checkedin() < in_use:
                if time.monotonic() > deadline:
                    log.error(
                        "%d connections to the deleted file are still in use", in_use - old_pool.checkedin()
                    )
                    break
                time.sleep(0.05)
            old_pool.dispose()  # closes the ones returned meanwhile
            for orphan in self.watch.remove_orphan_journal():
                log.warning("removed %s, left over from the deleted database", orphan)
            store.forget_ids(self.engine)  # ids learned on the old file meanwhile
            upgrade_in_child(self.engine)  # creates the file and its schema (idempotent at head)
            self.watch.remember()
        finally:
            self._open.set()
        self.recreated_total += 1
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        done = "recreated" if what == "deleted" else "reopened"
        self.note = f"{done}: {path} was {what} at {at}; checks from before are not in it"
        log.critical("database %s opened again at %s; writing to it from now on", path, at)
