"""Helpers for the browser tests: a page that records what it saw, DB seeding, waiting, skipping."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkd_process import CheckdProcess

# Every state a browser test asserts is kept as a PNG here (git ignores build/); the run prints it.
_REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("CHECKD_SCREENSHOTS") or _REPO / "build" / "screenshots")


class Page:
    """A Playwright page plus what it saw: requests, console errors and CSP violations."""

    def __init__(self, page: Any, server: CheckdProcess | None) -> None:
        self.page = page
        self.server = server
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _console(self, msg: Any) -> None:
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            self.errors.append(f"console: {msg.text}")

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot of the state just asserted under SHOTS and print its path."""
        return shot(self.page, name)

    def foreign_requests(self) -> list[str]:
        """Requests that went anywhere but this checkd (data: URLs are local)."""
        base = self.server.url("") if self.server else "http://127.0.0.1:"
        return [u for u in self.requests if not (u.startswith(base) or u.startswith("data:"))]


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot of Playwright `page` as SHOTS/`name`.png and print its path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def seed_checks(
    data_dir: Path,
    host: str,
    times: list[float],
    *,
    cpu: Callable[[int], float],
    services: dict[str, str] | None = None,
) -> None:
    """Write checks for `host` at `times` into the SQLite database of `data_dir` (and fold rollups);
    each check's service states are `services` (default: httpd inactive)."""
    from checkd import store
    from checkd.db import make_engine, migrate
    from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage

    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'checkd.db'}")
    try:
        migrate(engine)
        items = [
            Check(
                taken_at=t,
                cpu=cpu(i),
                memory=MemoryUsage(total=8 << 30, available=(4 << 30) - i * 1000, used=4 << 30, percent=50.0),
                load=LoadAverage(0.5, 0.4, 0.3),
                disks=[DiskUsage(path="/", total=100 << 30, used=40 << 30, free=60 << 30, percent=40.0)],
                services={"httpd": "inactive"} if services is None else services,
            )
            for i, t in enumerate(times)
        ]
        with engine.begin() as conn:
            store.insert_checks(conn=conn, host=host, items=items)
        fold = getattr(store, "fold_new_checks", None)
        if fold is not None:
            with engine.begin() as conn:
                fold(conn=conn, host=host)
    finally:
        engine.dispose()


def seed_sampler_audit(data_dir: Path, host: str, changes: list[tuple[float, str, str]]) -> list[int]:
    """Write sampler starts and stops (at, actor, "start" | "stop") to `host`'s audit log in the SQLite
    database of `data_dir`, as the API records them; their ids, in order."""
    from checkd import store
    from checkd.db import make_engine, migrate

    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'checkd.db'}")
    try:
        migrate(engine)
        with engine.begin() as conn:
            return [
                store.record_action(
                    conn=conn,
                    host=host,
                    entry=dataclasses.replace(
                        store.AuditEntry.instant(
                            actor,
                            "sampler",
                            action,
                            200,
                            "stopped" if action == "stop" else "started",
                            ok=True,
                            state="stopped" if action == "stop" else "running",
                        ),
                        at_ms=int(at * 1000),
                    ),
                )
                for at, actor, action in changes
            ]
    finally:
        engine.dispose()


def minutes_ago(count: int, *, start_min: int, step_s: int = 60) -> list[float]:
    """`count` times `step_s` apart, the newest `start_min` minutes ago, oldest first."""
    newest = time.time() - start_min * 60
    return [newest - (count - 1 - i) * step_s for i in range(count)]


def wait_ticks(page: Any, more: int = 1, timeout: float = 20_000) -> None:
    """Wait until the dashboard refreshed `more` more times."""
    now = int(page.evaluate("Number(document.body.dataset.ticks || 0)"))
    page.wait_for_function(f"() => Number(document.body.dataset.ticks || 0) >= {now + more}", timeout=timeout)


def root_or_skip() -> None:
    """Skip unless root with apache2 installed (the real-service tests)."""
    if os.geteuid() != 0:
        print("skipping: apache2 control tests need root")
        pytest.skip("apache2 control tests need root")
    if not (shutil.which("apache2ctl") or Path("/usr/sbin/apache2").exists()):
        print("skipping: apache2 is not installed (make system-deps installs it as root)")
        pytest.skip("apache2 is not installed")


def toy_config(tmp_path: Path, pidfile: Path, extra: str = "") -> Path:
    """A config with the `toy` service (stop kills the pidfile's process) and `extra` sections."""
    path = tmp_path / "checkd.toml"
    path.write_text(
        f"""
[services.toy]
backend = "command"
pidfile = "{pidfile}"
start = ["/bin/true"]
stop = ["/bin/sh", "-c", "kill $(cat {pidfile}) && rm {pidfile}"]
timeout = 5
{extra}"""
    )
    return path


# The host and config the chart tests (test_charts, test_markers) serve.
CHARTS_HOST = "charts-host"
CHARTS_CONFIG = """
[sampler]  # these tests read the cpu, memory and disk charts; tests/web/test_panels.py reads the devices
net_interfaces = []
disk_devices = []

[services.locked]
backend = "command"
control = false
status = ["/bin/true"]

[[alerts.rules]]
name = "cpu-high"
metric = "cpu_percent"
above = 60
for = "1h"
severity = "critical"
"""
