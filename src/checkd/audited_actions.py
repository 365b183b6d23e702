"""Service actions for any actor (API, CLI, alert): allow-listed, locked, verified and audited."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

from checkd import store
from checkd.backlog import WriteBacklog
from checkd.control import (
    Action,
    ActionInProgress,
    ActionResult,
    NotControllable,
    ServiceRegistry,
    UnknownService,
)

log = logging.getLogger(__name__)

ActionListener = Callable[[ActionResult], None]
SAMPLER = "sampler"  # the audit log's `service` for a sampler start/stop


class ActionRefused(Exception):
    """The action was not run: `status` 404 (unknown), 403 (control = false) or 409 (one is running)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ServiceActions:
    """Runs one action at a time per service and writes every attempt to the audit log."""

    def __init__(
        self, *, audit: WriteBacklog, host: str, registry: ServiceRegistry, listeners: list[ActionListener]
    ) -> None:
        self.audit = audit  # entries wait there, in order, while the database fails
        self.host = host
        self.registry = registry
        self.listeners = listeners  # called after each action that ran

    def record(self, entry: store.AuditEntry) -> None:
        """Record `entry`; while the database fails it waits in memory, in order, and is retried."""

        def write(conn: Connection) -> None:
            store.record_action(conn=conn, host=self.host, entry=entry)

        if self.audit.submit(write) is not None:  # the action happened: it is answered all the same
            log.warning("audit entry for %s %s waits for the database", entry.action, entry.service)

    def _refused(self, actor: str, name: str, action: str, status: int, message: str) -> ActionRefused:
        entry = store.AuditEntry.instant(actor, name, action, status, message)
        self.record(entry)
        return ActionRefused(status, message)

    def run(self, actor: str, name: str, action: Action) -> ActionResult:
        """Run and verify `action` on service `name` (blocking); raises ActionRefused."""
        try:
            result = self.registry.act(name, action)
        except UnknownService:
            raise self._refused(actor, name, action, 404, f"name: no configured service {name!r}") from None
        except NotControllable:
            raise self._refused(
                actor, name, action, 403, f"name: service {name!r} has control = false"
            ) from None
        except ActionInProgress:
            raise self._refused(
                actor, name, action, 409, f"name: another action on {name!r} is still running"
            ) from None
        self.record(store.AuditEntry.of_outcome(actor, name, action, result))
        for listener in self.listeners:
            listener(result)
        return result

    def record_sampler(
        self, actor: str, action: str, *, status: int, ok: bool, state: str | None, message: str
    ) -> None:
        """Record a sampler start/stop (service "sampler"), refused ones included."""
        self.record(store.AuditEntry.instant(actor, SAMPLER, action, status, message, ok=ok, state=state))
