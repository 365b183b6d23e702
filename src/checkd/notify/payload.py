"""What targets receive: Alertmanager's webhook JSON (version "4"), its /api/v2/alerts body, plain text."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's "no end" in webhook payloads
AM_ENDS_AFTER_S = 240.0  # a firing alert posted to Alertmanager stays valid 4 re-send periods, as Prometheus


def rfc3339(ts: float) -> str:
    """A Unix time as RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(labels: dict[str, str]) -> str:
    """16 hex digits identifying a label set (stable across restarts)."""
    text = "\x00".join(f"{k}\x00{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def status_of(alert: dict[str, Any], event: str) -> str:
    """ "resolved" for a resolve, else "firing" (a gave-up alert is still a problem)."""
    return "resolved" if event == "resolved" or alert.get("state") == "resolved" else "firing"


def annotations_of(alert: dict[str, Any]) -> dict[str, str]:
    """summary, state and value as Alertmanager annotations (strings)."""
    out = {"summary": str(alert.get("summary", "")), "state": str(alert.get("state", ""))}
    if alert.get("value") is not None:
        out["value"] = f"{alert['value']:g}"
    return out


def _am_alert(alert: dict[str, Any], event: str, now: float, generator_url: str) -> dict[str, Any]:
    labels = dict(alert["labels"])
    resolved = status_of(alert, event) == "resolved"
    return {
        "labels": labels,
        "annotations": annotations_of(alert),
        "startsAt": rfc3339(alert.get("fired_at") or alert["started_at"]),
        "endsAt": rfc3339(alert.get("resolved_at") or now) if resolved else rfc3339(now + AM_ENDS_AFTER_S),
        "generatorURL": generator_url,
    }


def alertmanager_body(
    alert: dict[str, Any], event: str, now: float, generator_url: str
) -> list[dict[str, Any]]:
    """POST /api/v2/alerts body: a list of postable alerts, endsAt ahead while firing (as Prometheus)."""
    return [_am_alert(alert, event, now, generator_url)]


def webhook_body(
    alert: dict[str, Any], event: str, now: float, *, receiver: str, generator_url: str
) -> dict[str, Any]:
    """Alertmanager's webhook payload, version "4", carrying this one alert."""
    status = status_of(alert, event)
    labels = dict(alert["labels"])
    item = _am_alert(alert, event, now, generator_url)
    item["status"] = status
    if status == "firing":
        item["endsAt"] = ZERO_TIME
    item["fingerprint"] = fingerprint(labels)
    group = {"alertname": labels.get("alertname", "")}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group["alertname"]}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": item["annotations"],
        "externalURL": generator_url,
        "alerts": [item],
    }


def plain_text(alert: dict[str, Any], event: str) -> tuple[str, str]:
    """(title, body) for chat and mail targets."""
    labels = alert["labels"]
    state = str(alert.get("state", "firing")).upper()
    word = {"resolved": "RESOLVED", "gave-up": "GAVE UP"}.get(event, state)
    title = f"[{word}] {labels.get('alertname')} on {labels.get('host')} ({labels.get('severity')})"
    return title, str(alert.get("summary", ""))
