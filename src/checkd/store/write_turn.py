"""Waiting short writes go first: a file lock beside a SQLite database that bulk writers pass through.

SQLite's busy handler polls; it does not queue. A short write that found the lock taken by a bulk
writer got it only if its thread ran within the bulk writer's pause between two transactions,
which a loaded machine does not promise: it could lose many rounds in a row. Now the waiting
writer claims its turn (an exclusive `flock` on `<database>-turn`), and a bulk writer, before each
transaction, waits until no turn is claimed (a shared `flock`, let go at once), and commits early
when it sees one claimed. The kernel queues both, in this process (the fold) and in others
(`checkd import-legacy`): a waiting write waits for a piece of the bulk transaction in progress,
however slowly a loaded machine runs it."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Engine

log = logging.getLogger(__name__)

SUFFIX = "-turn"


def turn_path(engine: Engine) -> Path | None:
    """The turn file of `engine`'s SQLite database, or None (PostgreSQL, in-memory SQLite)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    db = Path(url.database)
    return db.with_name(db.name + SUFFIX)


class WriteTurn:
    """One user's handle on a database's turn file (each opens its own: flock is per open file)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self.claimed = False

    @classmethod
    def of(cls, engine: Engine) -> WriteTurn:
        """The turn of `engine`'s database; one that does nothing where there is no file to lock."""
        return cls(turn_path(engine))

    def _open(self) -> int | None:
        if self._fd is None and self.path is not None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:  # e.g. a read-only directory: take turns as SQLite alone does
                log.warning("cannot open %s (%s): writes take turns without it", self.path, exc.strerror)
                self.path = None
        return self._fd

    def claim(self) -> None:
        """Hold the turn (a bulk writer waits before its next transaction) until `release`."""
        fd = self._open()
        if fd is not None and not self.claimed:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.claimed = True

    def release(self) -> None:
        """Let bulk writers go on."""
        if self._fd is not None and self.claimed:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.claimed = False

    def pass_through(self) -> None:
        """Wait until no writer claims the turn (a bulk writer, before each of its transactions)."""
        fd = self._open()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
            fcntl.flock(fd, fcntl.LOCK_UN)

    def waiting(self) -> bool:
        """Whether a writer claims the turn now (a bulk writer then commits early), without waiting."""
        fd = self._open()
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        """Release and close the file."""
        self.release()
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
