"""The agent's checks not yet accepted: newest in memory, older ones spooled to SQLite, bounded in bytes.

Order is kept by one rule: the spool only ever holds checks older than those in memory (memory
is moved to the spool's tail as a whole), so taking from the spool first, then from memory, is
oldest first. A check is identified by its sequence number; an accepted batch acknowledges
every check up to its highest number. The spool is opened only when checks must wait on disk;
the next sequence number is kept beside it in a one-line file."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checkd.agent.spool import Spool

log = logging.getLogger(__name__)

Item = tuple[int, bytes]  # (seq, the check's JSON)
SPOOL_FILE = "spool.db"  # checkd.agent.spool's file, named here so finding it needs no sqlite3
SEQ_FILE = "next_seq"
_RETRY_SPOOL_S = 30.0  # after a spool write failed, memory is not moved there again for this long


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
        self.spool_dir = spool_dir
        self.spool: Spool | None = None
        if spool_dir is not None:
            try:
                spool_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._spool_failed(f"spool {spool_dir / SPOOL_FILE}: {exc}")
            else:
                if (spool_dir / SPOOL_FILE).exists():  # checks left from before: they go first
                    self._open_spool()

    def _open_spool(self) -> Spool | None:
        """The spool, opened now if it is not yet (None when it cannot be)."""
        if self.spool is None and self.spool_dir is not None:
            from checkd.agent.spool import Spool, SpoolError

            try:
                self.spool = Spool(self.spool_dir / SPOOL_FILE)
            except SpoolError as exc:
                self._spool_failed(str(exc))
        return self.spool

    def _spool_failed(self, why: str) -> None:
        if self.spool_error is None:
            log.error("%s; checks are kept in memory only (at most %d bytes)", why, self.max_bytes)
        self.spool_error = why
        self._spool_retry_at = time.monotonic() + _RETRY_SPOOL_S

    def next_seq(self) -> int:
        """Where this agent's numbering starts: after every number it used before, even across a
        restart with no spool (microseconds since the epoch grow faster than checks are taken)."""
        start = time.time_ns() // 1000
        stored = 0
        if self.spool_dir is not None:
            with contextlib.suppress(OSError, ValueError):  # none yet, or a torn write: the clock rules
                stored = int((self.spool_dir / SEQ_FILE).read_text())
        if self.spool is not None:  # a spool written before the sequence file existed
            from checkd.agent.spool import SpoolError

            try:
                stored = max(stored, self.spool.meta("next_seq") or 0)
            except SpoolError as exc:
                self._spool_failed(str(exc))
        return max(start, stored)

    def save_seq(self, seq: int) -> None:
        """Remember the next sequence number beside the spool (best effort, said once when it fails)."""
        if self.spool_dir is None:
            return
        path = self.spool_dir / SEQ_FILE
        with self._lock:  # the pusher and, at exit, the main thread: one writer of the file at a time
            try:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(f"{seq}\n")
                os.replace(tmp, path)
            except OSError as exc:
                self._spool_failed(f"spool {path}: {exc}")

    def add(self, item: Item) -> None:
        """Queue one new check (its seq above every queued one)."""
        with self._lock:
            self.memory.append(item)
            self.memory_bytes += len(item[1])
            if self.memory_bytes > self.max_bytes - (self.spool.bytes if self.spool else 0):
                self._trim()

    def _trim(self) -> None:
        """Drop the oldest checks while over max_bytes: from the spool first, then from memory."""
        from checkd.agent.spool import SpoolError

        spool = self.spool
        while self.memory_bytes + (spool.bytes if spool else 0) > self.max_bytes:
            if spool is not None and spool.rows:
                try:
                    gone = spool.drop_oldest(max(1, spool.rows // 100))
                except SpoolError as exc:
                    self._spool_failed(str(exc))
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
            if self.spool_dir is None or not self.memory or time.monotonic() < self._spool_retry_at:
                return
            spool = self._open_spool()
            if spool is None:
                return
            from checkd.agent.spool import SpoolError

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
                from checkd.agent.spool import SpoolError

                try:
                    found = self.spool.oldest(self.acked, limit)
                except SpoolError as exc:
                    self._spool_failed(str(exc))
                    found = []
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
                from checkd.agent.spool import SpoolError

                try:
                    self.spool.delete_through(seq)
                except SpoolError as exc:  # the ack is kept in memory: `take` skips these rows
                    log.warning("cannot delete sent checks: %s", exc)

    def waiting(self) -> tuple[int, int]:
        """(checks in memory, checks in the spool)."""
        return len(self.memory), (self.spool.rows if self.spool else 0)

    def close(self) -> None:
        """Spill what is in memory and close the spool (removed when nothing waits in it)."""
        self.spill()
        if self.spool is not None:
            self.spool.close(remove_if_empty=True)
