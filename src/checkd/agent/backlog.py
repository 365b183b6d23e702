"""The agent's checks not yet accepted: newest in memory, older ones spooled to SQLite, bounded in bytes.

Order is kept by one rule: the spool only ever holds checks older than those in memory (memory
is moved to the spool's tail as a whole), so taking from the spool first, then from memory, is
oldest first. A check is identified by its sequence number; an accepted batch acknowledges
every check up to its highest number."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)

Item = tuple[int, bytes]  # (seq, the check's JSON)
SPOOL_FILE = "spool.db"
_RETRY_SPOOL_S = 30.0  # after a spool write failed, memory is not moved there again for this long


class SpoolError(Exception):
    """The spool cannot be opened or written (the message says which file and why)."""


class Spool:
    """A SQLite file of (seq, check JSON) rows, and the next sequence number."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / SPOOL_FILE
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS checks (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            row = self.db.execute("SELECT count(*), coalesce(sum(length(body)), 0) FROM checks").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"spool {self.path}: {exc}") from exc
        self.rows, self.bytes = int(row[0]), int(row[1])

    def meta(self, key: str) -> int | None:
        """A stored counter, or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def set_meta(self, key: str, value: int) -> None:
        """Store a counter."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def append(self, items: list[Item]) -> None:
        """Add `items` (all newer than any row) in one transaction; raises SpoolError."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany("INSERT OR REPLACE INTO checks (seq, body) VALUES (?, ?)", items)
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise SpoolError(f"spool {self.path}: {exc}") from exc
        self.rows += len(items)
        self.bytes += sum(len(body) for _, body in items)

    def oldest(self, after: int, limit: int) -> list[Item]:
        """Up to `limit` rows with seq above `after`, oldest first."""
        rows = self.db.execute(
            "SELECT seq, body FROM checks WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        ).fetchall()
        return [(int(s), bytes(b)) for s, b in rows]

    def delete_through(self, seq: int) -> None:
        """Delete every row up to `seq` (best effort: an ack is also kept in memory)."""
        try:
            found = self.db.execute(
                "DELETE FROM checks WHERE seq <= ? RETURNING length(body)", (seq,)
            ).fetchall()
        except sqlite3.Error as exc:
            log.warning("spool %s: cannot delete sent checks: %s", self.path, exc)
            return
        self.rows -= len(found)
        self.bytes -= sum(int(n) for (n,) in found)

    def drop_oldest(self, count: int) -> int:
        """Delete the `count` oldest rows; return how many went."""
        found = self.db.execute(
            "DELETE FROM checks WHERE seq IN (SELECT seq FROM checks ORDER BY seq LIMIT ?)"
            " RETURNING length(body)",
            (count,),
        ).fetchall()
        self.rows -= len(found)
        self.bytes -= sum(int(n) for (n,) in found)
        return len(found)

    def close(self) -> None:
        """Close the file."""
        self.db.close()


class Backlog:
    """Checks waiting to be accepted, at most `max_bytes` of them (the oldest dropped and counted)."""

    def __init__(self, spool_dir: Path | None, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.memory: deque[Item] = deque()
        self.memory_bytes = 0
        self.dropped_total = 0
        self.acked = 0  # every check up to this seq is accepted
        self.spool_error: str | None = None
        self._spool_retry_at = 0.0
        self._lock = threading.Lock()
        self.spool: Spool | None = None
        if spool_dir is not None:
            try:
                self.spool = Spool(spool_dir)
            except SpoolError as exc:
                self._spool_failed(str(exc))

    def _spool_failed(self, why: str) -> None:
        if self.spool_error is None:
            log.error("%s; checks are kept in memory only (at most %d bytes)", why, self.max_bytes)
        self.spool_error = why
        self._spool_retry_at = time.monotonic() + _RETRY_SPOOL_S

    def next_seq(self) -> int:
        """Where this agent's numbering starts: after every number it used before, even across a
        restart with no spool (microseconds since the epoch grow faster than checks are taken)."""
        start = time.time_ns() // 1000
        stored = self.spool.meta("next_seq") if self.spool is not None else None
        return max(start, stored or 0)

    def save_seq(self, seq: int) -> None:
        """Remember the next sequence number in the spool (best effort)."""
        if self.spool is not None:
            try:
                self.spool.set_meta("next_seq", seq)
            except sqlite3.Error as exc:
                self._spool_failed(f"spool {self.spool.path}: {exc}")

    def add(self, item: Item) -> None:
        """Queue one new check (its seq above every queued one)."""
        with self._lock:
            self.memory.append(item)
            self.memory_bytes += len(item[1])
            self._trim()

    def _trim(self) -> None:
        """Drop the oldest checks while over max_bytes: from the spool first, then from memory."""
        spool = self.spool
        while self.memory_bytes + (spool.bytes if spool else 0) > self.max_bytes:
            if spool is not None and spool.rows:
                try:
                    gone = spool.drop_oldest(max(1, spool.rows // 100))
                except sqlite3.Error as exc:
                    self._spool_failed(f"spool {spool.path}: {exc}")
                    return
            elif self.memory:
                _, body = self.memory.popleft()
                self.memory_bytes -= len(body)
                gone = 1
            else:
                return
            if self.dropped_total == 0:
                log.error("backlog over %d bytes: dropping the oldest checks (counted)", self.max_bytes)
            self.dropped_total += gone

    def spill(self) -> None:
        """Move memory to the spool's tail (the collector is unreachable); no-op without a spool."""
        with self._lock:
            spool = self.spool
            if spool is None or not self.memory or time.monotonic() < self._spool_retry_at:
                return
            items = list(self.memory)
            try:
                spool.append(items)
            except SpoolError as exc:
                self._spool_failed(str(exc))
                return
            if self.spool_error is not None:
                log.warning("spool %s is writable again", spool.path)
                self.spool_error = None
            self.memory.clear()
            self.memory_bytes = 0
            self._trim()

    def take(self, limit: int) -> list[Item]:
        """Up to `limit` of the oldest waiting checks (spool first), not removed until acknowledged."""
        with self._lock:
            if self.spool is not None and self.spool.rows:
                found = self.spool.oldest(self.acked, limit)
                if found:
                    return found
            return [item for item in list(self.memory)[:limit] if item[0] > self.acked]

    def ack(self, seq: int) -> None:
        """Every check up to `seq` was accepted: forget it."""
        with self._lock:
            self.acked = max(self.acked, seq)
            while self.memory and self.memory[0][0] <= seq:
                _, body = self.memory.popleft()
                self.memory_bytes -= len(body)
            if self.spool is not None and self.spool.rows:
                self.spool.delete_through(seq)

    def waiting(self) -> tuple[int, int]:
        """(checks in memory, checks in the spool)."""
        return len(self.memory), (self.spool.rows if self.spool else 0)

    def close(self) -> None:
        """Spill what is in memory and close the spool."""
        self.spill()
        if self.spool is not None:
            self.spool.close()
