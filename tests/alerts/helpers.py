"""Builders for alert tests: real settings, a migrated SQLite store, checks and an AlertEngine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from checkd.alerts import AlertEngine, compile_rules
from checkd.audited_actions import ServiceActions
from checkd.backlog import WriteBacklog
from checkd.config import Settings, load_settings
from checkd.control import ServiceRegistry
from checkd.models import notifications
from checkd.probes import Check, DiskUsage

HOST = "testhost"


def settings_from(tmp_path: Path, toml: str) -> Settings:
    """Settings read from `toml` as a real config file."""
    path = tmp_path / "checkd.toml"
    path.write_text(toml)
    return load_settings(path, data_dir=tmp_path, host_name=HOST)


def make_check(t: float, *, cpu: float | None = None, disk: float | None = None, **services: str) -> Check:
    """A check at Unix time `t` with the given cpu percent, / usage and service states."""
    disks = [] if disk is None else [DiskUsage("/", 100, int(disk), 100 - int(disk), disk)]
    return Check(taken_at=t, cpu=cpu, memory=None, load=None, disks=disks, services=dict(services))


@dataclass
class Sampling:
    """A stand-in for the sampler's running flag (the engine only asks whether it runs)."""

    running: bool = True
    calls: list[bool] = field(default_factory=list)

    def __call__(self) -> bool:
        self.calls.append(self.running)
        return self.running


def make_engine_for(engine: Engine, settings: Settings, sampling: Sampling | None = None) -> AlertEngine:
    """An AlertEngine on `engine` with the real registry and audited action path (not started)."""
    registry = ServiceRegistry(settings.services, init_system="sysv")
    actions = ServiceActions(
        audit=WriteBacklog(engine=engine, what="audit log", capacity=1000),
        host=HOST,
        registry=registry,
        listeners=[],
    )
    alerts = AlertEngine(
        engine=engine,
        host=HOST,
        rules=compile_rules(settings.alerts.rules),
        notify=settings.notify,
        actions=actions,
        sampler_running=sampling or Sampling(),
    )
    alerts.load()
    return alerts


def outbox(engine: Engine) -> list[tuple[str, str, str]]:
    """(target, event, alert state in the payload) of every queued notification, oldest first."""
    import json

    with engine.connect() as conn:
        rows = conn.execute(
            select(notifications.c.target, notifications.c.event, notifications.c.payload).order_by(
                notifications.c.id
            )
        ).all()
    return [(t, e, json.loads(p)["state"]) for t, e, p in rows]
