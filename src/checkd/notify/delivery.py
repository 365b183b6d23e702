"""Delivery: one thread drains the outbox; each target sends on its own worker, in its queue's order."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from checkd.notify.targets import DeliveryError, Target
from checkd.store.notifications import (
    NotificationRow,
    prune_notifications,
    queue_head,
    record,
    record_attempt,
)

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0  # retries wait 1, 2, 4 ... seconds, at most this long
MAX_AGE_S = 86400.0  # a notification not delivered within a day is marked failed and skipped
IDLE_WAKE_S = 5.0  # the outbox is looked at this often even when nothing wakes the thread
KEEP_LOG_S = 30 * 86400.0  # finished deliveries are kept this long in the log
PRUNE_EVERY_S = 3600.0
OUTCOMES = ("sent", "retried", "failed")

OutcomeListener = Callable[[str, str], None]  # (target, outcome)


@dataclass(frozen=True)
class TestResult:
    """One target's answer to a test notification."""

    target: str
    ok: bool
    status: str
    detail: str
    duration_ms: int


def backoff(attempts: int, cap: float = MAX_BACKOFF_S) -> float:
    """Seconds before attempt number `attempts + 1`: doubling from 1 s, at most `cap`."""
    return float(min(cap, 2 ** max(0, attempts - 1)))


def failure_text(exc: Exception) -> str:
    """One line saying why a send failed (a DeliveryError's own message, else the exception's)."""
    text = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
    return (text.splitlines() or [""])[0]


class Delivery:
    """At-least-once delivery from the outbox; a target that is down or hangs holds up only itself."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        targets: Sequence[Target],
        clock: Callable[[], float] = time.time,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        self.engine = engine
        self.host = host
        self.targets = list(targets)
        self.max_backoff_s = max_backoff_s
        self.listeners: list[OutcomeListener] = []
        self.errors_total = 0
        self.last_error: str | None = None
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy: dict[str, bool] = {t.name: False for t in self.targets}
        self._workers = {
            t.name: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"checkd-notify-{t.name}")
            for t in self.targets
        }
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0

    def start(self) -> None:
        """Start the delivery thread (once; nothing to do without targets)."""
        if self._thread is None and self.targets:
            self._thread = threading.Thread(target=self._run, name="checkd-delivery", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (something was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop dispatching; sends in flight finish on their own (rows stay pending if cut short)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for worker in self._workers.values():
            worker.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._dispatch(self._clock())
            except Exception as exc:  # database unreachable: rows stay queued; try again shortly
                self._fault(exc)
                wait = 2.0
            self._wake.wait(wait)
            self._wake.clear()

    def _fault(self, exc: Exception) -> None:
        self.errors_total += 1
        self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log.error("notification outbox: %s", self.last_error)

    def _dispatch(self, now: float) -> float:
        """Hand each idle target its oldest queued row when due; return seconds until the next is due."""
        next_in = IDLE_WAKE_S
        if now - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = now
            with self.engine.begin() as conn:
                prune_notifications(conn=conn, host=self.host, before=now - KEEP_LOG_S)
        with self.engine.connect() as conn:
            for target in self.targets:
                if self._busy[target.name]:
                    continue
                head = queue_head(conn=conn, host=self.host, target=target.name)
                if head is None:
                    continue
                if head.next_attempt_at > now:
                    next_in = min(next_in, head.next_attempt_at - now)
                    continue
                self._busy[target.name] = True
                self._workers[target.name].submit(self._attempt, target, head)
        return max(0.01, next_in)

    def _attempt(self, target: Target, row: NotificationRow) -> None:
        now = self._clock()
        error: str | None = None
        try:
            target.send(row.payload, row.event, now)
        except Exception as exc:  # a target's own bug must not stop its queue either
            error = failure_text(exc)
        if error is None:
            status, outcome, next_at = "sent", "sent", now
        elif now - row.created_at > MAX_AGE_S:
            status, outcome, next_at = "failed", "failed", now
        else:
            status, outcome = "pending", "retried"
            next_at = now + backoff(row.attempts + 1, self.max_backoff_s)
        if error is not None:
            log.warning("notify %s: %s event of alert %s: %s", target.name, row.event, row.alert_id, error)
        try:
            with self.engine.begin() as conn:
                record_attempt(
                    conn=conn, row_id=row.id, status=status, error=error, now=now, next_attempt_at=next_at
                )
        except Exception as exc:  # not recorded: the row stays pending and is sent again (at-least-once)
            self._fault(exc)
        finally:
            self._busy[target.name] = False
            self._wake.set()
        for listener in self.listeners:
            listener(target.name, outcome)

    def test(self, alert: dict[str, Any]) -> list[TestResult]:
        """Send `alert` as a test to every target at once (bypassing the queues); record each attempt."""
        results: dict[str, TestResult] = {}

        def one(target: Target) -> None:
            started = time.monotonic()
            try:
                detail, ok = target.send(alert, "test", self._clock()), True
            except Exception as exc:  # shown to the caller, never raised
                detail, ok = failure_text(exc), False
            ms = round((time.monotonic() - started) * 1000)
            results[target.name] = TestResult(target.name, ok, "sent" if ok else "failed", detail, ms)

        threads = [threading.Thread(target=one, args=(t,), daemon=True) for t in self.targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        now = self._clock()
        with self.engine.begin() as conn:
            for r in results.values():
                record(
                    conn=conn,
                    host=self.host,
                    target=r.target,
                    event="test",
                    payload=alert,
                    ok=r.ok,
                    error=None if r.ok else r.detail,
                    now=now,
                )
        for r in results.values():
            for listener in self.listeners:
                listener(r.target, "sent" if r.ok else "failed")
        return [results[t.name] for t in self.targets]
