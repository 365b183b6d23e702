"""Delivery from the outbox to real local receivers: webhook payload and signature, order after an
outage, a failing or hanging target never holding up another, commands fed on stdin and killed at
their timeout, Apprise's json:// URL, and the test notification."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from checkd.notify import Delivery
from notify.helpers import HOST, OWN_URL, alert, eventually, log_of, queue_events, target
from receiver import Receiver


def test_webhook_payload_is_alertmanager_v4_and_signed(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    delivery = deliveries(target(name="ops", type="webhook", url=hook.url + "/hook", secret="s3cret"))
    queue_events(
        sqlite_engine, delivery, [("firing", alert()), ("resolved", alert(state="resolved"))], ["ops"]
    )
    firing, resolved = hook.wait_for(2)
    path, headers, body = hook.requests[0]
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Checkd-Signature"] == expected
    assert firing["version"] == "4" and firing["status"] == "firing" and firing["receiver"] == "ops"
    assert firing["groupKey"] == '{}:{alertname="cpu-busy"}' and firing["truncatedAlerts"] == 0
    assert firing["commonLabels"] == {"alertname": "cpu-busy", "host": HOST, "severity": "warning"}
    (item,) = firing["alerts"]
    assert item["status"] == "firing" and item["endsAt"] == "0001-01-01T00:00:00Z"
    assert item["startsAt"] == "2027-01-15T08:00:05.000Z" and item["generatorURL"] == OWN_URL
    assert item["annotations"]["summary"] == "cpu_percent is 95.5" and len(item["fingerprint"]) == 16
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["endsAt"] == "2027-01-15T08:01:40.000Z"
    assert resolved["alerts"][0]["fingerprint"] == item["fingerprint"]
    eventually(lambda: [n.status for n in log_of(sqlite_engine, "ops")] == ["sent", "sent"])


def test_no_signature_without_a_secret(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    delivery = deliveries(target(name="ops", type="webhook", url=hook.url))
    queue_events(sqlite_engine, delivery, [("firing", alert())], ["ops"])
    hook.wait_for(1)
    assert "X-Checkd-Signature" not in hook.requests[0][1]


def test_a_receiver_down_for_a_while_gets_everything_in_order(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    hook.stop()  # down: connections refused
    delivery = deliveries(target(name="ops", type="webhook", url=hook.url))
    queue_events(sqlite_engine, delivery, [("firing", alert(n)) for n in range(5)], ["ops"])
    time.sleep(1.5)
    assert hook.requests == []
    first = log_of(sqlite_engine, "ops")[0]
    assert first.status == "pending" and first.attempts >= 2 and "ConnectError" in (first.last_error or "")
    hook.start()
    bodies = hook.wait_for(5)
    assert [b["alerts"][0]["annotations"]["value"] for b in bodies] == [
        "95.5",
        "96.5",
        "97.5",
        "98.5",
        "99.5",
    ]
    eventually(lambda: all(n.status == "sent" for n in log_of(sqlite_engine, "ops")))


def test_a_failing_or_hanging_target_never_holds_up_another(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], receivers: Callable[[], Receiver]
) -> None:
    hangs, fails, fine = receivers(), receivers(), receivers()
    hangs.delay = 6.0
    fails.status = 500
    delivery = deliveries(
        target(name="hangs", type="webhook", url=hangs.url, timeout=3),
        target(name="fails", type="webhook", url=fails.url),
        target(name="fine", type="webhook", url=fine.url),
    )
    started = time.monotonic()
    queue_events(
        sqlite_engine, delivery, [("firing", alert(n)) for n in range(3)], ["hangs", "fails", "fine"]
    )
    fine.wait_for(3, timeout=2.5)
    assert time.monotonic() - started < 2.5  # all three, while "hangs" waits out its first 3 s
    hung = eventually(
        lambda: log_of(sqlite_engine, "hangs")[0].attempts and log_of(sqlite_engine, "hangs")[0]
    )
    assert hung.status == "pending" and "within the timeout" in (hung.last_error or "")
    assert hung.status == "pending" and "within the timeout" in (hung.last_error or "")
    failed = log_of(sqlite_engine, "fails")[0]
    assert failed.status == "pending" and failed.attempts >= 3 and "HTTP 500" in (failed.last_error or "")
    fails.status = 200  # it recovers: the retries go through, in order
    assert [b["alerts"][0]["annotations"]["value"] for b in fails.wait_for(3)] == ["95.5", "96.5", "97.5"]


def test_command_gets_the_alert_on_stdin_and_a_hanging_one_is_killed(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], tmp_path: Path
) -> None:
    out = tmp_path / "got.json"
    write = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    delivery = deliveries(
        target(name="page", type="command", argv=[sys.executable, "-c", write]),
        target(name="stuck", type="command", argv=["sleep", "60"], timeout=1),
    )
    started = time.monotonic()
    queue_events(sqlite_engine, delivery, [("firing", alert())], ["page", "stuck"])
    deadline = time.monotonic() + 10
    while (
        not out.exists() or not log_of(sqlite_engine, "stuck")[0].attempts
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    got = json.loads(out.read_text())
    assert got["event"] == "firing" and got["alert"]["labels"]["alertname"] == "cpu-busy"
    stuck = log_of(sqlite_engine, "stuck")[0]
    assert "timed out after 1s and was killed" in (stuck.last_error or "")
    assert time.monotonic() - started < 3


def test_apprise_json_url_posts_to_a_local_receiver(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], receivers: Callable[[], Receiver]
) -> None:
    chat = receivers()
    delivery = deliveries(target(name="chat", type="apprise", urls=[f"json://127.0.0.1:{chat.port}/"]))
    queue_events(sqlite_engine, delivery, [("firing", alert())], ["chat"])
    (body,) = chat.wait_for(1)
    assert body["title"] == f"[FIRING] cpu-busy on {HOST} (warning)"
    assert body["message"] == "cpu_percent is 95.5"


def test_test_notification_reports_each_target(
    sqlite_engine: Engine, deliveries: Callable[..., Delivery], receivers: Callable[[], Receiver]
) -> None:
    hook = receivers()
    down = Receiver()  # never started
    delivery = deliveries(
        target(name="ok", type="webhook", url=hook.url), target(name="down", type="webhook", url=down.url)
    )
    results = delivery.test(alert())
    assert [(r.target, r.ok, r.status) for r in results] == [("ok", True, "sent"), ("down", False, "failed")]
    assert results[0].detail == "HTTP 200" and "ConnectError" in results[1].detail
    assert [n.event for n in log_of(sqlite_engine, "ok")] == ["test"]
