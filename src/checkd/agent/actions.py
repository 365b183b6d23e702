"""The agent's action loop: long-poll the collectors for this host's queued actions, run each with
the same control code as `checkd serve` (allow-listed, locked, verified, timed out, never a
shell) and post the result back."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from checkd.agent.collector import Collectors, Refused, Unreachable
from checkd.vocabulary import ACTIONS

if TYPE_CHECKING:
    from checkd.control import ServiceRegistry

log = logging.getLogger("checkd.agent")

POLL_WAIT_S = 30  # the collector holds a poll this long when nothing is queued
_RETRY_S = 5.0
_REFUSED_RETRY_S = 60.0  # a refused poll (a revoked token) is a configuration to fix, not a blip
_POST_TRIES = 5


def run_action(registry: ServiceRegistry | None, service: str, action: str) -> dict[str, Any]:
    """Run one action (`registry` None: this host configures no services); the result as the
    collector takes it (status: 200, 403, 404, 409, 502, 504)."""
    now = datetime.now(UTC).isoformat()
    refused = {"ok": False, "state": "unknown", "duration_ms": 0, "at": now, "output": ""}
    if action not in ACTIONS:
        return refused | {"status": 404, "message": f"action: {action!r} is not one of {', '.join(ACTIONS)}"}
    no_such = refused | {"status": 404, "message": f"name: no configured service {service!r} on this host"}
    if registry is None:
        return no_such
    from checkd.control import ActionInProgress, NotControllable, UnknownService

    try:
        result = registry.act(service, action)
    except UnknownService:
        return no_such
    except NotControllable:
        return refused | {"status": 403, "message": f"name: service {service!r} has control = false"}
    except ActionInProgress:
        return refused | {"status": 409, "message": f"name: another action on {service!r} is still running"}
    return {
        "status": result.status,
        "ok": result.ok,
        "state": result.state.value,
        "exit_code": result.exit_code,
        "output": result.output,
        "duration_ms": result.duration_ms,
        "at": result.at.isoformat(),
        "message": result.message,
    }


class ActionLoop:
    """One thread: poll, run, answer; a collector that cannot be reached is retried."""

    def __init__(
        self, collectors: Collectors, host: str, registry: ServiceRegistry | None, stopping: threading.Event
    ) -> None:
        self.collectors = collectors
        self.path = f"/api/v2/agents/{quote(host, safe='')}/actions"
        self.registry = registry
        self.stopping = stopping
        self.actions_total = 0

    def run(self) -> None:
        """Until stopped."""
        while not self.stopping.is_set():
            try:
                queued = self.collectors.request(
                    "GET", f"{self.path}?wait={POLL_WAIT_S}", timeout=POLL_WAIT_S + 15
                )
            except Unreachable as exc:
                log.debug("action poll failed: %s", exc)
                self.stopping.wait(_RETRY_S)
                continue
            except Refused as exc:
                log.error("collector refused the action poll: %s", exc)
                self.stopping.wait(_REFUSED_RETRY_S)
                continue
            for item in queued or []:
                self.handle(item)

    def handle(self, item: dict[str, Any]) -> None:
        """Run one queued action and post its result."""
        log.info("action %s %s (by %s)", item.get("action"), item.get("service"), item.get("actor"))
        result = run_action(self.registry, str(item.get("service")), str(item.get("action")))
        self.actions_total += 1
        body = json.dumps(result).encode()
        for _ in range(_POST_TRIES):
            try:
                self.collectors.request("POST", f"{self.path}/{int(item['id'])}", body)
                return
            except Unreachable as exc:
                log.warning("cannot post the result of action %s yet: %s", item.get("id"), exc)
                self.stopping.wait(_RETRY_S)
            except Refused as exc:
                log.error("collector refused the result of action %s: %s", item.get("id"), exc)
                return
