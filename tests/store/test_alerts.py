"""Alert rows and the notification outbox on both databases; migration 0006 matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from checkd.models import metadata
from checkd.store.alerts import (
    AlertRow,
    active_alerts,
    count_alerts,
    get_alert,
    insert_alert,
    latest_alert,
    list_alerts,
    silence_alert,
    update_alert,
)
from checkd.store.notifications import (
    enqueue,
    list_notifications,
    prune_notifications,
    queue_head,
    record_attempt,
)


def _alert(rule: str, state: str = "firing", at: float = 1000.0) -> AlertRow:
    return AlertRow(
        rule=rule,
        kind="threshold",
        severity="warning",
        state=state,
        value=95.5,
        summary=f"{rule} is busy",
        labels={"alertname": rule, "host": "h"},
        started_at=at,
    )


def test_migration_0006_creates_what_the_models_say(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = [d for d in diffs if "alerts" in repr(d) or "notifications" in repr(d)]
    assert mine == []


def test_alerts_round_trip_page_and_silence(engine: Engine) -> None:
    with engine.begin() as conn:
        rows = [_alert(f"r{i}", state="resolved" if i % 2 else "firing", at=1000.0 + i) for i in range(5)]
        for row in rows:
            insert_alert(conn=conn, host="h", row=row)
        insert_alert(conn=conn, host="other", row=_alert("r0"))
        rows[0].state = "gave-up"
        rows[0].restarts = [1.5, 2.5]
        update_alert(conn=conn, row=rows[0])
    with engine.begin() as conn:
        active = active_alerts(conn=conn, host="h")
        assert [a.rule for a in active] == ["r0", "r2", "r4"]
        assert active[0].state == "gave-up" and active[0].restarts == [1.5, 2.5]
        assert active[0].labels == {"alertname": "r0", "host": "h"} and active[0].value == 95.5
        first = list_alerts(conn=conn, host="h", limit=2)
        assert [a.rule for a in first] == ["r4", "r3"]
        second = list_alerts(conn=conn, host="h", limit=10, before_id=first[-1].id)
        assert [a.rule for a in second] == ["r2", "r1", "r0"]
        assert [a.rule for a in list_alerts(conn=conn, state="resolved")] == ["r3", "r1"]
        assert len(list_alerts(conn=conn)) == 6
        assert count_alerts(conn=conn, host="h", state="firing") == 2
        latest = latest_alert(conn=conn, host="h", rule="r3")
        assert latest is not None and latest.state == "resolved"
        assert rows[2].id is not None and silence_alert(conn=conn, alert_id=rows[2].id, until=5000.0)
        assert not silence_alert(conn=conn, alert_id=999_999, until=5000.0)
    with engine.connect() as conn:
        got = get_alert(conn=conn, alert_id=rows[2].id)
        assert got is not None and got.silenced_until == 5000.0 and got.host == "h"
        assert get_alert(conn=conn, alert_id=999_999) is None


def test_outbox_keeps_each_targets_order_and_counts_attempts(engine: Engine) -> None:
    with engine.begin() as conn:
        for i in range(3):
            enqueue(
                conn=conn,
                host="h",
                alert_id=i,
                targets=["a", "b"],
                event="firing",
                payload={"n": i},
                now=100.0 + i,
            )
    with engine.begin() as conn:
        head = queue_head(conn=conn, host="h", target="a")
        assert head is not None and head.payload == {"n": 0} and head.status == "pending"
        record_attempt(
            conn=conn, row_id=head.id, status="pending", error="refused", now=101.0, next_attempt_at=103.0
        )
    with engine.begin() as conn:
        again = queue_head(conn=conn, host="h", target="a")
        assert again is not None and again.id == head.id and again.attempts == 1
        assert again.last_error == "refused" and again.next_attempt_at == 103.0
        record_attempt(conn=conn, row_id=head.id, status="sent", error=None, now=104.0, next_attempt_at=104.0)
    with engine.connect() as conn:
        nxt = queue_head(conn=conn, host="h", target="a")
        assert nxt is not None and nxt.payload == {"n": 1}
        b_head = queue_head(conn=conn, host="h", target="b")
        assert b_head is not None and b_head.payload == {"n": 0}  # a's retries never touched b
        log = list_notifications(conn=conn, host="h", limit=10)
        assert (
            len(log) == 6 and log[-1].status == "sent" and log[-1].attempts == 2 and log[-1].sent_at == 104.0
        )
        assert queue_head(conn=conn, host="nobody", target="a") is None


def test_pruning_keeps_pending_and_recent_deliveries(engine: Engine) -> None:
    with engine.begin() as conn:
        enqueue(conn=conn, host="h", alert_id=1, targets=["a", "b"], event="firing", payload={}, now=100.0)
        enqueue(conn=conn, host="h", alert_id=2, targets=["a"], event="firing", payload={}, now=500.0)
        old_a = queue_head(conn=conn, host="h", target="a")
        assert old_a is not None
        record_attempt(
            conn=conn, row_id=old_a.id, status="sent", error=None, now=101.0, next_attempt_at=101.0
        )
    with engine.begin() as conn:
        assert prune_notifications(conn=conn, host="h", before=400.0) == 1  # old and sent
        assert prune_notifications(conn=conn, host="nobody", before=400.0) == 0
    with engine.connect() as conn:
        left = sorted((n.target, n.alert_id, n.status) for n in list_notifications(conn=conn, host="h"))
    assert left == [("a", 2, "pending"), ("b", 1, "pending")]


def test_updating_an_alert_never_undoes_a_silence(engine: Engine) -> None:
    with engine.begin() as conn:
        row = _alert("r")
        insert_alert(conn=conn, host="h", row=row)
    assert row.id is not None
    with engine.begin() as conn:
        silence_alert(conn=conn, alert_id=row.id, until=9000.0)
    with engine.begin() as conn:
        row.state = "resolved"  # a change worked out from the copy read before the silence
        update_alert(conn=conn, row=row)
    with engine.connect() as conn:
        got = get_alert(conn=conn, alert_id=row.id)
    assert got is not None and got.state == "resolved" and got.silenced_until == 9000.0
