"""The Apprise target (optional extra `checkd[apprise]`): chat, mail and push through Apprise URLs."""

from __future__ import annotations

from typing import Any

import apprise

from checkd.config_alerts import NotifyTargetSettings
from checkd.notify.payload import plain_text
from checkd.notify.targets import DeliveryError


class AppriseTarget:
    """Sends a title and a body to every Apprise URL of the target."""

    type = "apprise"

    def __init__(self, settings: NotifyTargetSettings) -> None:
        self.name = settings.name
        self.apprise = apprise.Apprise()
        for url in settings.urls:
            self.apprise.add(url)

    def send(self, alert: dict[str, Any], event: str, now: float) -> str:
        """Notify every URL; any failure fails the attempt (Apprise logs which one)."""
        title, body = plain_text(alert, event)
        if not self.apprise.notify(title=title, body=body):
            raise DeliveryError("apprise: at least one URL could not be notified (see the log)")
        return f"{len(self.apprise)} URL(s) notified"
