"""Alert rows: the active alert of each rule, their transitions, silences and the keyset-paged list."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from checkd.models import alerts, hosts
from checkd.store import dims
from checkd.vocabulary import ACTIVE_ALERT_STATES


@dataclass
class AlertRow:
    """One alert: an episode of one rule on one host, from pending to resolved."""

    rule: str
    kind: str
    severity: str
    state: str
    value: float | None
    summary: str
    labels: dict[str, str]
    started_at: float
    fired_at: float | None = None
    resolved_at: float | None = None
    last_notified_at: float | None = None
    silenced_until: float | None = None
    restarts: list[float] = field(default_factory=list)
    gave_up_at: float | None = None
    host: str = ""
    id: int | None = None

    def snapshot(self) -> dict[str, Any]:
        """The alert as plain JSON-able values (what a notification carries)."""
        return {k: v for k, v in self.__dict__.items() if k != "restarts"}


_STORED = (
    "rule",
    "kind",
    "severity",
    "state",
    "value",
    "summary",
    "started_at",
    "fired_at",
    "resolved_at",
    "last_notified_at",
    "silenced_until",
    "gave_up_at",
)


def _values(row: AlertRow) -> dict[str, Any]:
    values = {k: getattr(row, k) for k in _STORED}
    values["labels"] = json.dumps(row.labels, sort_keys=True)
    values["restarts"] = json.dumps(row.restarts)
    return values


def _row(r: Any) -> AlertRow:
    return AlertRow(
        **{k: r[k] for k in _STORED},
        labels=json.loads(r["labels"]),
        restarts=json.loads(r["restarts"]),
        host=r["host_name"],
        id=int(r["id"]),
    )


def _select() -> Any:
    return select(alerts, hosts.c.name.label("host_name")).join(hosts, hosts.c.id == alerts.c.host_id)


def insert_alert(*, conn: Connection, host: str, row: AlertRow) -> int:
    """Store a new alert of `host` (caller commits); sets and returns its id."""
    hid = dims.host_id(conn=conn, name=host)
    stmt = insert(alerts).values(host_id=hid, **_values(row)).returning(alerts.c.id)
    row.id = int(conn.execute(stmt).scalar_one())
    row.host = host
    return row.id


def update_alert(*, conn: Connection, row: AlertRow) -> None:
    """Write `row`'s current fields over its stored copy, except the silence (caller commits).

    Only silence_alert writes `silenced_until`, so an evaluation racing an operator's silence
    cannot undo it."""
    values = _values(row)
    del values["silenced_until"]
    conn.execute(update(alerts).where(alerts.c.id == row.id).values(values))


def active_alerts(*, conn: Connection, host: str) -> list[AlertRow]:
    """`host`'s alerts that are pending, firing or gave up, oldest first."""
    q = _select().where(hosts.c.name == host, alerts.c.state.in_(ACTIVE_ALERT_STATES))
    return [_row(r) for r in conn.execute(q.order_by(alerts.c.id)).mappings()]


def latest_alert(*, conn: Connection, host: str, rule: str) -> AlertRow | None:
    """The newest alert of `rule` on `host`, whatever its state."""
    q = _select().where(hosts.c.name == host, alerts.c.rule == rule).order_by(alerts.c.id.desc()).limit(1)
    found = conn.execute(q).mappings().first()
    return None if found is None else _row(found)


def get_alert(*, conn: Connection, alert_id: int) -> AlertRow | None:
    """One alert by id."""
    found = conn.execute(_select().where(alerts.c.id == alert_id)).mappings().first()
    return None if found is None else _row(found)


def list_alerts(
    *,
    conn: Connection,
    host: str | None = None,
    state: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AlertRow]:
    """Alerts newest first (of `host` or every host, in `state` or any), ids below `before_id`."""
    q = _select()
    if host is not None:
        q = q.where(hosts.c.name == host)
    if state is not None:
        q = q.where(alerts.c.state == state)
    if before_id is not None:
        q = q.where(alerts.c.id < before_id)
    return [_row(r) for r in conn.execute(q.order_by(alerts.c.id.desc()).limit(limit)).mappings()]


def silence_alert(*, conn: Connection, alert_id: int, until: float) -> bool:
    """Hold back notifications of one alert until `until` (caller commits); False when no such id."""
    done = conn.execute(update(alerts).where(alerts.c.id == alert_id).values(silenced_until=until))
    return done.rowcount > 0


def count_alerts(*, conn: Connection, host: str, state: str) -> int:
    """How many of `host`'s alerts are in `state`."""
    q = select(func.count()).select_from(alerts.join(hosts, hosts.c.id == alerts.c.host_id))
    return int(conn.execute(q.where(hosts.c.name == host, alerts.c.state == state)).scalar_one())


def delete_alert(*, conn: Connection, alert_id: int) -> None:
    """Forget a pending alert whose condition went away before `for` was over (caller commits)."""
    conn.execute(delete(alerts).where(alerts.c.id == alert_id))
