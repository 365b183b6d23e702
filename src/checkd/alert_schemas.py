"""Pydantic shapes of the alert and notification routes (DESIGN "Alerts, remediation and notifications")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checkd.config import DURATION_RE, parse_duration
from checkd.schemas import utc
from checkd.store.alerts import AlertRow
from checkd.vocabulary import AlertRuleKind

AlertStateName = Literal["pending", "firing", "gave-up", "resolved"]


class AlertOut(BaseModel):
    """One alert: an episode of one rule on one host."""

    id: int
    rule: str
    host: str
    severity: Literal["warning", "critical"]
    state: AlertStateName
    value: float | None = Field(description="the rule's value when the state last changed")
    summary: str
    labels: dict[str, str]
    started_at: datetime = Field(description="when the condition first held (pending began)")
    resolved_at: datetime | None
    last_notified_at: datetime | None
    silenced_until: datetime | None

    @classmethod
    def of(cls, a: AlertRow) -> AlertOut:
        """The API shape of a stored alert."""
        return cls(
            id=a.id or 0,
            rule=a.rule,
            host=a.host,
            severity=a.severity,
            state=a.state,
            value=a.value,
            summary=a.summary,
            labels=a.labels,
            started_at=utc(a.started_at),
            resolved_at=utc(a.resolved_at),
            last_notified_at=utc(a.last_notified_at),
            silenced_until=utc(a.silenced_until),
        )


class AlertPage(BaseModel):
    """A page of alerts, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[AlertOut]
    next_cursor: str | None


class RuleOut(BaseModel):
    """A configured rule and its state now (`inactive` when it has no active alert)."""

    name: str
    kind: AlertRuleKind
    severity: Literal["warning", "critical"]
    state: Literal["inactive", "pending", "firing", "gave-up"]
    value: float | None = Field(description="the last evaluated value (fill: seconds until full)")
    since: datetime | None


class SilenceIn(BaseModel):
    """Body of POST /api/v2/alerts/{id}/silence."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    for_: str = Field(
        alias="for",
        max_length=20,
        pattern=DURATION_RE.pattern,
        description='how long, e.g. "1h"; "0s" lifts a silence',
    )

    @field_validator("for_")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) > 366 * 86400:
            raise ValueError("at most a year (366d)")
        return value


class NotificationOut(BaseModel):
    """One delivery of one event to one target (the outbox and its log)."""

    id: int
    alert_id: int | None
    target: str
    event: str = Field(description="firing, repeat, resolved, gave-up, refresh or test")
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class NotifyTestOut(BaseModel):
    """One target's answer to a test notification."""

    target: str
    ok: bool
    status: Literal["sent", "failed"]
    detail: str
    duration_ms: int
