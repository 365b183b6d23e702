"""AlertEngine: evaluates every rule on each stored check in its own thread; state lives in SQL."""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from checkd.alerts.fill import FillPredictor
from checkd.alerts.ledger import Ledger
from checkd.alerts.remediate import Remediator
from checkd.alerts.rules import Rule
from checkd.alerts.transitions import Change, due_for_notice, silenced, step
from checkd.audited_actions import ServiceActions
from checkd.config_alerts import NotifySettings
from checkd.probes import Check
from checkd.store.alerts import AlertRow, active_alerts, silence_alert
from checkd.store.checks import list_checks
from checkd.vocabulary import PROBE_RULE

log = logging.getLogger(__name__)

QUEUE_MAX = 1000  # checks waiting for evaluation; a full queue drops (and counts) new ones
TICK_S = 1.0  # staleness and Alertmanager re-sends are looked at this often
AM_RESEND_S = 60.0  # Prometheus re-sends firing alerts to Alertmanager every minute too


@dataclass(frozen=True)
class RuleStatus:
    """One rule now: its active alert's state (or inactive), its last value and since when."""

    name: str
    kind: str
    severity: str
    state: str
    value: float | None
    since: float | None


class AlertEngine:
    """Owns the active alert of each rule; fed by `submit` (the sampler's on_written listener)."""

    def __init__(
        self,
        *,
        engine: Engine,
        host: str,
        rules: Sequence[Rule],
        notify: NotifySettings,
        actions: ServiceActions,
        sampler_running: Callable[[], bool],
        on_queued: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.host = host
        self.rules = list(rules)
        self.repeat_s = notify.repeat_s
        self.ledger = Ledger(
            engine=engine,
            host=host,
            targets=notify.targets,
            send_resolved=notify.send_resolved,
            on_queued=on_queued,
        )
        self.remediator = Remediator(actions)
        self.fill = FillPredictor(engine, host)
        self._sampler_running = sampler_running
        self._clock = clock
        self._queue: queue.Queue[Check] = queue.Queue(maxsize=QUEUE_MAX)
        self._active: dict[str, AlertRow] = {}
        self._values: dict[str, float | None] = {}
        self._lock = threading.Lock()  # guards _active against the API's silence and reads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_stored_at: float | None = None
        self._was_sampling = False
        self._last_refresh = 0.0
        self.evaluated_total = 0
        self.dropped_total = 0
        self.errors_total = 0
        self.last_error: str | None = None

    # -- life cycle -------------------------------------------------------------------------------
    def load(self) -> None:
        """Take up every rule where it was: active alerts from SQL, the newest stored check's time."""
        names = {r.name for r in self.rules}
        with self.engine.connect() as conn:
            found = active_alerts(conn=conn, host=self.host)
            newest = list_checks(conn=conn, host=self.host, limit=1)
        with self._lock:
            self._active = {a.rule: a for a in found if a.rule in names}
        self._last_stored_at = newest[0].taken_at if newest else None

    def start(self) -> None:
        """Start the evaluating thread (once)."""
        if self._thread is None and self.rules:
            self._thread = threading.Thread(target=self._run, name="checkd-alerts", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Evaluate what is queued, then stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, check: Check) -> None:
        """Queue a stored check for evaluation; never blocks the caller (the sampler)."""
        self._last_stored_at = check.taken_at
        if not self.rules:
            return
        try:
            self._queue.put_nowait(check)
        except queue.Full:
            self.dropped_total += 1

    def _run(self) -> None:
        while True:
            try:
                check = self._queue.get(timeout=TICK_S)
            except queue.Empty:
                check = None
            if check is None and self._stop.is_set():
                return
            try:
                if check is not None:
                    self.evaluate(check)
                self.tick(self._clock())
            except Exception as exc:  # a database fault: counted and shown; the next check retries
                self.errors_total += 1
                self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                log.error("alert evaluation failed: %s", self.last_error)

    # -- evaluation -------------------------------------------------------------------------------
    def evaluate(self, check: Check) -> None:
        """Evaluate every check-driven rule on one stored check (its time is the rules' clock)."""
        now = check.taken_at
        for rule in self.rules:
            kind = rule.kind
            if kind == "threshold":
                value = rule.value(check)
                if value is not None:
                    holds = rule.breached(value)
                    self._apply(rule, holds=holds, cleared=rule.cleared(value), value=value, now=now)
            elif kind == "service":
                self._service(rule, check, now)
            elif kind == PROBE_RULE:
                self._probe(rule, check, now)
            elif kind == "fill":
                left = self.fill.seconds_to_full(rule, now)
                holds = left is not None and left <= rule.fills_within_s
                self._apply(rule, holds=holds, cleared=not holds, value=left, now=now)
        self.evaluated_total += 1

    def tick(self, now: float) -> None:
        """Time-driven work: staleness rules and re-sends to Alertmanager."""
        sampling = self._sampler_running()
        if sampling and not self._was_sampling:
            # Started (again): staleness counts from now, not from before the stop.
            self._last_stored_at = max(self._last_stored_at or now, now)
        self._was_sampling = sampling
        for rule in self.rules:
            if rule.kind == "stale":
                age = now - (self._last_stored_at or now)
                holds = sampling and age > rule.stale_s  # a sampler stopped on purpose is not stale
                self._apply(rule, holds=holds, cleared=not holds, value=round(age, 1), now=now)
        if now - self._last_refresh >= AM_RESEND_S:
            self._last_refresh = now
            with self._lock:
                firing = [a for a in self._active.values() if a.state != "pending" and not silenced(a, now)]
            self.ledger.refresh(firing, now)

    def _service(self, rule: Rule, check: Check, now: float) -> None:
        state = check.services.get(rule.service or "")
        if state is None or self.remediator.taken_before_restart(rule, check):
            return  # not probed, or taken while a restart ran: it says nothing new
        active = state == "active"
        self._apply(
            rule,
            holds=not active,
            cleared=active,
            value=None,
            now=now,
            summary=f"service {rule.service} is {state}",
        )
        alert = self._active.get(rule.name)
        if rule.restart and alert is not None and not active:
            self._set(self.remediator.remediate(rule, alert, self.ledger, now))

    def _probe(self, rule: Rule, check: Check, now: float) -> None:
        result = next((e for e in check.endpoints if e.name == rule.probe), None)
        if result is None:
            return  # not run yet: it says nothing
        why = "up" if result.up else f"down: {result.error or 'no answer'}"
        self._apply(
            rule,
            holds=not result.up,
            cleared=result.up,
            value=result.latency_ms,
            now=now,
            summary=f"probe {rule.probe} is {why}",
        )

    def _apply(
        self, rule: Rule, *, holds: bool, cleared: bool, value: float | None, now: float, summary: str = ""
    ) -> None:
        self._values[rule.name] = value
        alert = self._active.get(rule.name)
        if alert is None and not holds:
            return  # the usual case: nothing to do, nothing to build
        if (
            alert is not None
            and alert.state != "pending"
            and not cleared
            and not due_for_notice(alert, self.repeat_s, now)
        ):
            return  # firing and still firing, nothing due
        change = step(
            rule,
            alert,
            holds=holds,
            cleared=cleared,
            value=value,
            summary=summary or rule.describe(value),
            now=now,
            host=self.host,
        )
        self._persist(rule, alert, change, now)

    def _persist(self, rule: Rule, before: AlertRow | None, change: Change, now: float) -> None:
        after, what = change.alert, change.what
        if before is None and after is not None and rule.restart:
            after = self.remediator.carry_restarts(rule, after, self.engine, now)
        if what == "dropped":
            assert before is not None
            self.ledger.drop(before)
            self._set(None, rule.name)
        elif what == "resolved":
            assert after is not None
            announce = after.last_notified_at is not None and not silenced(after, now)
            self.ledger.save(after, event="resolved" if announce else None, now=now)
            self._set(None, rule.name)
        elif what == "new-pending":
            assert after is not None
            self._set(self.ledger.save(after, now=now))
        elif after is not None and due_for_notice(after, self.repeat_s, now):
            event = "firing" if after.last_notified_at is None else "repeat"
            self._set(self.ledger.save(after, event=event, now=now))
        elif what == "fired":
            assert after is not None
            self._set(self.ledger.save(after, now=now))  # silenced: stored, not sent

    def _set(self, alert: AlertRow | None, rule: str | None = None) -> None:
        with self._lock:
            if alert is None:
                self._active.pop(rule or "", None)
                return
            held = self._active.get(alert.rule)
            if held is not None and held.id == alert.id and held.silenced_until != alert.silenced_until:
                # A silence set through the API while this change was worked out wins.
                alert = dataclasses.replace(alert, silenced_until=held.silenced_until)
            self._active[alert.rule] = alert

    # -- reads and the API's silence --------------------------------------------------------------
    def silence(self, alert_id: int, until: float) -> bool:
        """Hold back one alert's notifications until `until`; False when there is no such alert."""
        with self.engine.begin() as conn:
            found = silence_alert(conn=conn, alert_id=alert_id, until=until)
        with self._lock:
            for rule, alert in self._active.items():
                if alert.id == alert_id:
                    self._active[rule] = dataclasses.replace(alert, silenced_until=until)
        return found

    def active(self) -> list[AlertRow]:
        """The active alerts now (pending, firing, gave-up)."""
        with self._lock:
            return list(self._active.values())

    def firing_count(self) -> int:
        """How many alerts are firing or gave up."""
        return sum(1 for a in self.active() if a.state in ("firing", "gave-up"))

    def statuses(self) -> list[RuleStatus]:
        """Every rule with its state now, in config order."""
        with self._lock:
            active = dict(self._active)
        out = []
        for rule in self.rules:
            alert = active.get(rule.name)
            out.append(
                RuleStatus(
                    name=rule.name,
                    kind=rule.kind,
                    severity=rule.severity,
                    state="inactive" if alert is None else alert.state,
                    value=self._values.get(rule.name),
                    since=None if alert is None else alert.started_at,
                )
            )
        return out
