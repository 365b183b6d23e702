"""Notification targets: webhook, Alertmanager, command (and Apprise, in its own module)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from checkd.config_alerts import NotifyTargetSettings
from checkd.control import CommandRunner
from checkd.notify.payload import alertmanager_body, webhook_body

if TYPE_CHECKING:  # httpx is imported by the first HTTP target built: a server without one never loads it
    import httpx

SIGNATURE_HEADER = "X-Checkd-Signature"


class DeliveryError(Exception):
    """One attempt failed; the message says why in one line."""


class Target(Protocol):
    """Somewhere notifications go."""

    name: str
    type: str

    def send(self, alert: dict[str, Any], event: str, now: float) -> str:
        """Deliver one event of one alert; return a short detail ("HTTP 200"); raise DeliveryError."""
        ...


def signature(secret: str, body: bytes) -> str:
    """The X-Checkd-Signature value: sha256=<hex HMAC-SHA256 of the body keyed by the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _http_client(timeout: float) -> httpx.Client:
    import httpx

    return httpx.Client(timeout=timeout, trust_env=False)


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> str:
    import httpx

    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.TimeoutException:
        raise DeliveryError(f"no answer from {url} within the timeout") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{url}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    if not response.is_success:
        raise DeliveryError(f"{url} answered HTTP {response.status_code}: {response.text[:200]}".strip())
    return f"HTTP {response.status_code}"


class WebhookTarget:
    """POSTs Alertmanager's webhook JSON (version "4"), signed when a secret is set."""

    type = "webhook"

    def __init__(self, settings: NotifyTargetSettings, generator_url: str) -> None:
        self.name = settings.name
        self.url = settings.url or ""
        self.secret = None if settings.secret is None else settings.secret.get_secret_value()
        self.generator_url = generator_url
        self.client = _http_client(settings.timeout)

    def send(self, alert: dict[str, Any], event: str, now: float) -> str:
        """POST one alert in a version-4 webhook payload."""
        payload = webhook_body(alert, event, now, receiver=self.name, generator_url=self.generator_url)
        body = json.dumps(payload).encode()
        headers = {SIGNATURE_HEADER: signature(self.secret, body)} if self.secret else {}
        return _post(self.client, self.url, body, headers)


class AlertmanagerTarget:
    """POSTs to Alertmanager's /api/v2/alerts as Prometheus does (re-sent while firing)."""

    type = "alertmanager"

    def __init__(self, settings: NotifyTargetSettings, generator_url: str) -> None:
        self.name = settings.name
        self.url = (settings.url or "").rstrip("/") + "/api/v2/alerts"
        self.generator_url = generator_url
        self.client = _http_client(settings.timeout)

    def send(self, alert: dict[str, Any], event: str, now: float) -> str:
        """POST the alert as a one-item list of postable alerts."""
        body = json.dumps(alertmanager_body(alert, event, now, self.generator_url)).encode()
        return _post(self.client, self.url, body, {})


class CommandTarget:
    """Runs argv through the one CommandRunner with the alert JSON on stdin; killed at its timeout."""

    type = "command"

    def __init__(self, settings: NotifyTargetSettings, runner: CommandRunner) -> None:
        self.name = settings.name
        self.argv = list(settings.argv)
        self.timeout = settings.timeout
        self.runner = runner

    def send(self, alert: dict[str, Any], event: str, now: float) -> str:
        """Run the command once; exit 0 is success."""
        data = json.dumps({"event": event, "alert": alert, "sent_at": now}).encode()
        run = self.runner.run(self.argv, self.timeout, stdin=data)
        if run.timed_out:
            raise DeliveryError(f"`{self.argv[0]}` timed out after {self.timeout:g}s and was killed")
        if run.exit_code != 0:
            tail = run.output.strip().splitlines()[-1:] or [""]
            raise DeliveryError(f"`{self.argv[0]}` exited {run.exit_code}: {tail[0][:200]}".rstrip(": "))
        return "exit 0"


def build_targets(
    settings: Sequence[NotifyTargetSettings], runner: CommandRunner, generator_url: str
) -> list[Target]:
    """One target object per configured target, in config order."""
    out: list[Target] = []
    for s in settings:
        if s.type == "webhook":
            out.append(WebhookTarget(s, generator_url))
        elif s.type == "alertmanager":
            out.append(AlertmanagerTarget(s, generator_url))
        elif s.type == "command":
            out.append(CommandTarget(s, runner))
        else:
            from checkd.notify.apprise_target import AppriseTarget  # optional extra, imported when used

            out.append(AppriseTarget(s))
    return out
