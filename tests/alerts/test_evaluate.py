"""Rule evaluation against a real SQLite store: `for`, `clear`, repeat, silences, staleness, fill
prediction, resuming after a restart, and restarts that give up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from alerts.helpers import Sampling, make_check, make_engine_for, outbox, settings_from
from checkd.models import rollups
from checkd.store import dims, list_actions
from checkd.store.alerts import list_alerts

TARGET = '[[notify.targets]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:9/"\n'
CPU = (
    TARGET
    + """
[[alerts.rules]]
name = "cpu-busy"
metric = "cpu_percent"
above = 90
for = "5s"
clear = 85
"""
)


@pytest.fixture
def db(sqlite_engine: Engine) -> Engine:
    """The test's SQLite store."""
    return sqlite_engine


def _states(db: Engine) -> list[tuple[str, str]]:
    with db.connect() as conn:
        return [(a.rule, a.state) for a in reversed(list_alerts(conn=conn, limit=100))]


def test_for_holds_before_firing_and_clear_is_the_hysteresis(tmp_path: Path, db: Engine) -> None:
    alerts = make_engine_for(db, settings_from(tmp_path, CPU))
    t = 1_000_000.0
    alerts.evaluate(make_check(t, cpu=95))
    assert [(s.state, s.since) for s in alerts.statuses()] == [("pending", t)]
    alerts.evaluate(make_check(t + 4.9, cpu=99))
    assert alerts.statuses()[0].state == "pending" and outbox(db) == []
    alerts.evaluate(make_check(t + 5, cpu=91))  # held for `for` (5 s): fires
    assert alerts.statuses()[0].state == "firing"
    assert outbox(db) == [("hook", "firing", "firing")]
    alerts.evaluate(make_check(t + 6, cpu=88))  # below `above` but not at or below `clear`
    alerts.evaluate(make_check(t + 7, cpu=85.5))
    assert alerts.statuses()[0].state == "firing" and alerts.firing_count() == 1
    alerts.evaluate(make_check(t + 8, cpu=85))  # at `clear`: resolves
    assert alerts.statuses()[0].state == "inactive"
    assert outbox(db)[-1] == ("hook", "resolved", "resolved")
    assert _states(db) == [("cpu-busy", "resolved")]


def test_a_pending_alert_that_stops_holding_is_dropped_unsent(tmp_path: Path, db: Engine) -> None:
    alerts = make_engine_for(db, settings_from(tmp_path, CPU))
    alerts.evaluate(make_check(100.0, cpu=95))
    alerts.evaluate(make_check(104.0, cpu=90))  # not above 90: the `for` timer stops
    alerts.evaluate(make_check(106.0, cpu=95))  # a new timer starts here
    alerts.evaluate(make_check(110.0, cpu=95))
    assert alerts.statuses()[0].state == "pending" and outbox(db) == []
    alerts.evaluate(make_check(111.0, cpu=95))
    assert alerts.statuses()[0].state == "firing"
    assert _states(db) == [("cpu-busy", "firing")]


def test_restart_resumes_timers_and_does_not_notify_again(tmp_path: Path, db: Engine) -> None:
    settings = settings_from(tmp_path, CPU)
    first = make_engine_for(db, settings)
    first.evaluate(make_check(100.0, cpu=95))  # pending from t=100
    second = make_engine_for(db, settings)  # "checkd restarted": state comes from SQL
    second.evaluate(make_check(105.0, cpu=95))
    assert second.statuses()[0].state == "firing"  # the timer did not start over at 105
    assert outbox(db) == [("hook", "firing", "firing")]
    third = make_engine_for(db, settings)
    third.evaluate(make_check(106.0, cpu=97))
    third.evaluate(make_check(107.0, cpu=97))
    assert outbox(db) == [("hook", "firing", "firing")]  # already sent, `repeat` (4h) not over


def test_repeat_resends_and_a_silence_holds_everything_back(tmp_path: Path, db: Engine) -> None:
    alerts = make_engine_for(
        db, settings_from(tmp_path, CPU.replace("[[alerts", '[notify]\nrepeat = "10s"\n[[alerts', 1))
    )
    alerts.evaluate(make_check(0.0, cpu=95))
    alerts.evaluate(make_check(5.0, cpu=95))  # fires, sent
    alerts.evaluate(make_check(14.0, cpu=95))
    assert [e for _, e, _ in outbox(db)] == ["firing"]
    alerts.evaluate(make_check(15.0, cpu=95))  # 10 s after the last notice
    assert [e for _, e, _ in outbox(db)] == ["firing", "repeat"]
    alert_id = alerts.active()[0].id
    assert alert_id is not None and alerts.silence(alert_id, 100.0)
    alerts.evaluate(make_check(30.0, cpu=95))
    alerts.evaluate(make_check(40.0, cpu=50))  # resolved while silenced: not sent either
    assert [e for _, e, _ in outbox(db)] == ["firing", "repeat"]
    assert _states(db) == [("cpu-busy", "resolved")]
    assert not alerts.silence(987_654, 100.0)


def test_staleness_fires_only_while_the_sampler_should_run(tmp_path: Path, db: Engine) -> None:
    sampling = Sampling(running=True)
    alerts = make_engine_for(
        db, settings_from(tmp_path, TARGET + '[[alerts.rules]]\nname = "no-checks"\nstale = "3s"\n'), sampling
    )
    now = time.time()
    alerts.tick(now)  # the engine sees the sampler running from here on
    alerts.submit(make_check(now))
    alerts.tick(now + 2)
    assert alerts.statuses()[0].state == "inactive"
    alerts.tick(now + 4)
    assert alerts.statuses()[0].state == "firing"
    alerts.submit(make_check(now + 5))
    alerts.tick(now + 5)
    assert alerts.statuses()[0].state == "inactive"
    sampling.running = False  # stopped through the API: no check is expected
    alerts.tick(now + 60)
    assert alerts.statuses()[0].state == "inactive"
    sampling.running = True  # started again: staleness counts from the start
    alerts.tick(now + 61)
    alerts.tick(now + 63)
    assert alerts.statuses()[0].state == "inactive"
    alerts.tick(now + 64.5)
    assert alerts.statuses()[0].state == "firing"
    assert [e for _, e, _ in outbox(db)] == ["firing", "resolved", "firing"]


def _fill_rollups(db: Engine, now: int, percent_at: list[float]) -> None:
    with db.begin() as conn:
        hid = dims.host_id(conn=conn, name="testhost")
        mid = dims.metric_id(conn=conn, name="disk_percent:/")
        rows = []
        for i, pct in enumerate(percent_at):
            bucket = now - 60 * (len(percent_at) - i)
            rows.append(
                {
                    "tier": 1,
                    "host_id": hid,
                    "metric_id": mid,
                    "bucket": bucket - bucket % 60,
                    "min": pct,
                    "max": pct,
                    "total": pct * 6,
                    "count": 6,
                }
            )
        conn.execute(insert(rollups), rows)


FILL = (
    TARGET
    + """
[[alerts.rules]]
name = "root-fills"
metric = "disk_percent"
path = "/"
fills_within = "2h"
window = "1h"
"""
)


def test_fill_prediction_fits_the_rollups(tmp_path: Path, db: Engine) -> None:
    now = 1_800_000_000
    _fill_rollups(db, now, [50 + 0.5 * i for i in range(60)])  # +0.5 % a minute, 80 % now: full in 40 min
    alerts = make_engine_for(db, settings_from(tmp_path, FILL))
    alerts.evaluate(make_check(float(now), disk=80.0))
    status = alerts.statuses()[0]
    assert status.state == "firing"
    assert status.value is not None and 39 * 60 < status.value < 41 * 60


def test_a_flat_disk_does_not_fire(tmp_path: Path, db: Engine) -> None:
    now = 1_800_000_000
    _fill_rollups(db, now, [50.0 + (i % 2) * 0.1 for i in range(60)])
    alerts = make_engine_for(db, settings_from(tmp_path, FILL))
    alerts.evaluate(make_check(float(now), disk=50.0))
    assert alerts.statuses()[0].state == "inactive"


BROKEN = (
    TARGET
    + """
[services.broken]
backend = "command"
start = ["/bin/false"]
stop = ["/bin/true"]
status = ["/bin/false"]
timeout = 5

[[alerts.rules]]
name = "broken-down"
service = "broken"
restart = true
max_restarts = 3
restart_window = "10m"
severity = "critical"
"""
)


def test_a_service_that_never_starts_gives_up_after_max_restarts(tmp_path: Path, db: Engine) -> None:
    alerts = make_engine_for(db, settings_from(tmp_path, BROKEN))
    now = time.time()
    for i in range(8):
        alerts.evaluate(make_check(now + 10 + i, broken="failed"))
    with db.connect() as conn:
        audit = list_actions(conn=conn, limit=50)
    assert [(a.actor, a.action, a.ok) for a in audit] == [("alert", "restart", False)] * 3
    status = alerts.statuses()[0]
    assert status.state == "gave-up"
    assert [e for _, e, _ in outbox(db)] == ["firing", "gave-up"]
    assert "3 restarts" in alerts.active()[0].summary
    alerts.evaluate(make_check(now + 30, broken="active"))  # recovered by hand: resolves
    assert alerts.statuses()[0].state == "inactive"
    assert [e for _, e, _ in outbox(db)] == ["firing", "gave-up", "resolved"]


def test_firing_alerts_are_re_sent_to_alertmanager_every_minute(tmp_path: Path, db: Engine) -> None:
    am = '[[notify.targets]]\nname = "am"\ntype = "alertmanager"\nurl = "http://127.0.0.1:9/"\n'
    alerts = make_engine_for(db, settings_from(tmp_path, CPU.replace('for = "5s"', 'for = "0s"') + am))
    now = time.time()
    alerts.evaluate(make_check(now, cpu=95))
    assert outbox(db) == [("hook", "firing", "firing"), ("am", "firing", "firing")]
    alerts.tick(now)
    alerts.tick(now + 30)
    alerts.tick(now + 61)
    refreshes = [row for row in outbox(db) if row[1] == "refresh"]
    assert refreshes == [("am", "refresh", "firing"), ("am", "refresh", "firing")]  # only to Alertmanager


FLAPS = (
    TARGET
    + """
[services.flaps]
backend = "command"
start = ["/bin/true"]
stop = ["/bin/true"]
status = ["/bin/true"]

[[alerts.rules]]
name = "flaps-down"
service = "flaps"
restart = true
max_restarts = 3
restart_window = "10m"
"""
)


def test_a_service_that_keeps_dying_after_good_restarts_still_gives_up(tmp_path: Path, db: Engine) -> None:
    alerts = make_engine_for(db, settings_from(tmp_path, FLAPS))
    t = time.time() + 10
    for episode in range(4):  # dies, is restarted fine, is active on the next check, dies again
        alerts.evaluate(make_check(t + 10 * episode, flaps="failed"))
        alerts.evaluate(make_check(t + 10 * episode + 5, flaps="active" if episode < 3 else "failed"))
    with db.connect() as conn:
        audit = list_actions(conn=conn, limit=50)
    assert [(a.actor, a.ok) for a in audit] == [("alert", True)] * 3  # the 4th death is not restarted
    assert alerts.statuses()[0].state == "gave-up"
    assert _states(db)[-1] == ("flaps-down", "gave-up")
    assert [e for _, e, _ in outbox(db)][-2:] == ["firing", "gave-up"]
