"""The agent's spool: a SQLite file (stdlib sqlite3) of checks not yet accepted, oldest first.

Opened only when checks have to wait on disk (the collector is unreachable, or checks are left
from before a restart), so an agent whose collector answers never loads sqlite3."""

from __future__ import annotations

import sqlite3
from pathlib import Path

Item = tuple[int, bytes]  # (seq, the check's JSON), as the backlog holds it
SPOOL_CACHE_KIB = 256


class SpoolError(Exception):
    """The spool cannot be opened or written (the message says which file and why)."""


class Spool:
    """A SQLite file of (seq, check JSON) rows; every failure is a SpoolError naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Rows are appended at one end and read at the other: a small page cache serves both,
            # and bounds what a long outage adds to the agent's memory (SQLite's default is 2 MB).
            self.db.execute(f"PRAGMA cache_size=-{SPOOL_CACHE_KIB}")
            self.db.execute("CREATE TABLE IF NOT EXISTS checks (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            row = self.db.execute("SELECT count(*), coalesce(sum(length(body)), 0) FROM checks").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"spool {self.path}: {exc}") from exc
        self.rows, self.bytes = int(row[0]), int(row[1])

    def _failed(self, exc: sqlite3.Error) -> SpoolError:
        return SpoolError(f"spool {self.path}: {exc}")

    def meta(self, key: str) -> int | None:
        """A stored counter, or None."""
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        return None if row is None else int(row[0])

    def append(self, items: list[Item]) -> None:
        """Add `items` (all newer than any row) in one transaction."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO checks (seq, body) VALUES (?, ?)", items)
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise self._failed(exc) from exc
        self.rows += len(items)
        self.bytes += sum(len(body) for _, body in items)

    def oldest(self, after: int, limit: int) -> list[Item]:
        """Up to `limit` rows with seq above `after`, oldest first."""
        try:
            rows = self.db.execute(
                "SELECT seq, body FROM checks WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        return [(int(s), bytes(b)) for s, b in rows]

    def _delete(self, sql: str, arg: int) -> int:
        try:
            found = self.db.execute(sql, (arg,)).fetchall()
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        self.rows -= len(found)
        self.bytes -= sum(int(n) for (n,) in found)
        return len(found)

    def delete_through(self, seq: int) -> None:
        """Delete every row up to `seq`."""
        self._delete("DELETE FROM checks WHERE seq <= ? RETURNING length(body)", seq)

    def drop_oldest(self, count: int) -> int:
        """Delete the `count` oldest rows; return how many went."""
        return self._delete(
            "DELETE FROM checks WHERE seq IN (SELECT seq FROM checks ORDER BY seq LIMIT ?)"
            " RETURNING length(body)",
            count,
        )

    def close(self, *, remove_if_empty: bool = False) -> None:
        """Close the file; with `remove_if_empty`, delete it when no check waits in it (so the next
        start does not load sqlite3 for an empty spool)."""
        self.db.close()
        if remove_if_empty and self.rows == 0:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
