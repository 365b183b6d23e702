"""EndpointRunner: each check on its own schedule in the worker pool; the sampler reads its snapshot
and keeps its cadence while an endpoint check hangs until its timeout."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from checkd.config import load_settings
from checkd.endpoints import EndpointCheck, EndpointRunner, build_checks
from checkd.endpoints.http import HttpProbe, HttpTarget
from checkd.endpoints.tcp import TcpProbe, TcpTarget
from checkd.probes import CheckProbe
from checkd.sampler import Sampler
from checkd_process import free_port
from tls_site import Site


@pytest.fixture
def listener() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections (the backlog holds them)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield int(s.getsockname()[1])


def _tcp(name: str, port: int, interval_s: float) -> EndpointCheck:
    probe = TcpProbe(TcpTarget(name, "127.0.0.1", port, 1))
    return EndpointCheck(
        name=name, kind="tcp", target=f"127.0.0.1:{port}", interval_s=interval_s, probe=probe
    )


def _wait(predicate: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_each_check_runs_on_its_own_interval(listener: int) -> None:
    runner = EndpointRunner(
        [_tcp("fast", listener, 1), _tcp("slow", listener, 3), _tcp("closed", free_port(), 1)]
    )
    runner.start()
    try:
        _wait(lambda: len(runner.latest()) == 3)
        first = {r.name: r.checked_at for r in runner.latest()}
        time.sleep(3.5)
        seen = {r.name: r for r in runner.latest()}
    finally:
        runner.stop()
    assert [r.name for r in runner.latest()] == ["fast", "slow", "closed"]  # config order
    assert seen["fast"].up and seen["slow"].up and not seen["closed"].up
    assert seen["closed"].error == "connection refused"
    # fast and closed ran about 3 more times; slow once more, at its 3 s slot.
    assert 2.5 <= seen["fast"].checked_at - first["fast"] <= 3.6
    assert 2.5 <= seen["slow"].checked_at - first["slow"] <= 3.6
    status = runner.status()
    assert 8 <= status.runs_total <= 12
    assert status.errors_total == 0 and status.skipped_total == 0
    assert status.cpu_seconds_total > 0


def test_the_sampler_keeps_its_cadence_while_a_check_hangs_until_its_timeout(
    sqlite_engine: Engine, listener: int
) -> None:
    with Site() as site:
        hanging = HttpProbe(HttpTarget("hangs", site.url("/slow?s=30"), timeout_s=2))
        runner = EndpointRunner(
            [
                EndpointCheck("hangs", "http", site.url("/slow?s=30"), 2, hanging),
                _tcp("db", listener, 1),
            ]
        )
        probe = CheckProbe(disk_paths=["/"], endpoint_results=runner.latest)
        sampler = Sampler(engine=sqlite_engine, host="endpoints-test", probe=probe, interval_s=1)
        taken = []
        sampler.on_check(taken.append)
        runner.start()
        sampler.start()
        try:
            time.sleep(4.6)
        finally:
            sampler.stop()
            runner.stop()
    # One check a second, each quick: reading the endpoint results never waited for the hanging run.
    assert len(taken) >= 4, [c.taken_at for c in taken]
    assert sampler.missed_slots_total == 0
    assert max(c.duration_s or 0 for c in taken) < 0.5
    gaps = [b.taken_at - a.taken_at for a, b in itertools.pairwise(taken)]
    assert all(0.8 < g < 1.2 for g in gaps), gaps
    # The tcp result was on the checks from the first second; the hanging one once it timed out.
    assert any(e.name == "db" and e.up for e in taken[1].endpoints)
    last = {e.name: e for e in taken[-1].endpoints}
    assert not last["hangs"].up and last["hangs"].error == "read timed out"


def test_a_configured_section_builds_the_checks(tmp_path: Path) -> None:
    config = tmp_path / "checkd.toml"
    config.write_text("""
[[probes.http]]
name = "site"
url = "https://127.0.0.1:8443/"
interval = "10s"

[[probes.tcp]]
name = "db"
host = "::1"
port = 5432
""")
    checks = build_checks(load_settings(config, data_dir=tmp_path).probes)
    assert [(c.name, c.kind, c.target, c.interval_s) for c in checks] == [
        ("site", "http", "https://127.0.0.1:8443/", 10),
        ("db", "tcp", "[::1]:5432", 30),
    ]
    for check in checks:
        check.probe.close()


def test_stop_while_a_run_is_in_flight_lets_it_end_on_its_own() -> None:
    with Site() as site:
        url = site.url("/slow?s=30")
        runner = EndpointRunner(
            [EndpointCheck("hangs", "http", url, 2, HttpProbe(HttpTarget("hangs", url, 1)))]
        )
        runner.start()
        time.sleep(0.3)  # the first run waits for the page
        runner.stop()
        _wait(lambda: runner.result("hangs") is not None, timeout=5)
    result = runner.result("hangs")
    assert result is not None and not result.up
    # Its client was not closed under it: it timed out as it would have (not "Bad file descriptor").
    assert result.error == "read timed out"
