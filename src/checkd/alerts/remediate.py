"""Remediation of service rules: restart through the audited action path, at most N times per window."""

from __future__ import annotations

import dataclasses
import logging
import time

from sqlalchemy import Engine

from checkd.alerts.ledger import Ledger
from checkd.alerts.rules import Rule
from checkd.alerts.transitions import gave_up
from checkd.audited_actions import ActionRefused, ServiceActions
from checkd.probes import Check
from checkd.store.alerts import AlertRow, latest_alert

log = logging.getLogger(__name__)

ACTOR = "alert"


class Remediator:
    """Restarts a down service for its firing alert, and gives up after `max_restarts` in the window."""

    def __init__(self, actions: ServiceActions) -> None:
        self.actions = actions
        self._restarted_at: dict[str, float] = {}  # rule -> when its last restart finished

    def taken_before_restart(self, rule: Rule, check: Check) -> bool:
        """True for a check taken before the rule's last restart finished (queued while it ran)."""
        return check.taken_at < self._restarted_at.get(rule.name, 0.0)

    def carry_restarts(self, rule: Rule, alert: AlertRow, engine: Engine, now: float) -> AlertRow:
        """A new alert of `rule` with the restarts of its previous episode still in the window.

        So a service that restarts fine but dies again and again (each death a new alert) still
        gives up after `max_restarts` in `restart_window`, as Monit's "N restarts within M
        cycles". After a give-up the count starts again: the service was active in between."""
        with engine.connect() as conn:
            previous = latest_alert(conn=conn, host=alert.labels.get("host", ""), rule=rule.name)
        if previous is None or previous.gave_up_at is not None:
            return alert
        recent = [t for t in previous.restarts if now - t < rule.restart_window_s]
        return dataclasses.replace(alert, restarts=recent) if recent else alert

    def remediate(self, rule: Rule, alert: AlertRow, ledger: Ledger, now: float) -> AlertRow:
        """Restart the service or, with the restarts used up, move the alert to gave-up; returns it."""
        if alert.state != "firing":
            return alert  # pending (for not over) or already given up
        recent = [t for t in alert.restarts if now - t < rule.restart_window_s]
        if len(recent) >= rule.max_restarts:
            log.warning("%s: gave up restarting %s after %d restarts", rule.name, rule.service, len(recent))
            return ledger.save(gave_up(alert, rule, now), event="gave-up", now=now)
        try:
            result = self.actions.run(ACTOR, rule.service or "", "restart")
        except ActionRefused as exc:  # e.g. 409: an operator's action runs; look again next check
            log.info("%s: restart of %s not run: %s", rule.name, rule.service, exc.message)
            return alert
        self._restarted_at[rule.name] = time.time()
        log.warning("%s: restarted %s: %s", rule.name, rule.service, result.message)
        return ledger.save(dataclasses.replace(alert, restarts=[*recent, now]), now=now)
