"""The state machine of one rule's alert: pending → firing (→ gave-up) → resolved; no I/O here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from checkd.alerts.rules import Rule
from checkd.store.alerts import AlertRow


@dataclass(frozen=True)
class Change:
    """What one evaluation did: `what` is new-pending, fired, dropped, resolved or None (nothing)."""

    alert: AlertRow | None  # the alert after the step (None: no active alert)
    what: str | None


def base_labels(rule: Rule, host: str) -> dict[str, str]:
    """alertname, host, severity and the rule's own labels (service or path)."""
    return {"alertname": rule.name, "host": host, "severity": rule.severity, **rule.labels}


def step(
    rule: Rule,
    alert: AlertRow | None,
    *,
    holds: bool,
    cleared: bool,
    value: float | None,
    summary: str,
    now: float,
    host: str,
) -> Change:
    """One evaluation of `rule`: `holds` is the firing condition, `cleared` the resolving one.

    A pending alert is dropped as soon as the condition no longer holds; a firing (or given-up)
    one resolves only once `cleared` (the hysteresis of `clear`)."""
    if alert is None:
        if not holds:
            return Change(None, None)
        fired = rule.for_s <= 0
        new = AlertRow(
            rule=rule.name,
            kind=rule.kind,
            severity=rule.severity,
            state="firing" if fired else "pending",
            value=value,
            summary=summary,
            labels=base_labels(rule, host),
            started_at=now,
            fired_at=now if fired else None,
        )
        return Change(new, "fired" if fired else "new-pending")
    if alert.state == "pending":
        if not holds:
            return Change(None, "dropped")
        if now - alert.started_at >= rule.for_s:
            return Change(
                dataclasses.replace(alert, state="firing", fired_at=now, value=value, summary=summary),
                "fired",
            )
        return Change(alert, None)
    if cleared:
        return Change(
            dataclasses.replace(alert, state="resolved", resolved_at=now, value=value, summary=summary),
            "resolved",
        )
    return Change(alert, None)


def gave_up(alert: AlertRow, rule: Rule, now: float) -> AlertRow:
    """`alert` after its restarts ran out: no more restarts until the service is active again."""
    summary = (
        f"service {rule.service} still not active after {rule.max_restarts} restarts in "
        f"{rule.restart_window_s} s; checkd stopped restarting it"
    )
    return dataclasses.replace(alert, state="gave-up", gave_up_at=now, summary=summary)


def silenced(alert: AlertRow, now: float) -> bool:
    """True while a silence holds the alert's notifications back."""
    return alert.silenced_until is not None and alert.silenced_until > now


def due_for_notice(alert: AlertRow, repeat_s: int, now: float) -> bool:
    """True when a firing (or given-up) alert should be sent: never sent yet, or `repeat_s` has passed."""
    if alert.state not in ("firing", "gave-up") or silenced(alert, now):
        return False
    if alert.last_notified_at is None:
        return True
    return repeat_s > 0 and now - alert.last_notified_at >= repeat_s
