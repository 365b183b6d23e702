"""ServiceRegistry: allow-list lookups, backend choice, locked actions, timeouts and missing binaries."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checkd.config import ServiceSettings
from checkd.control import (
    ActionInProgress,
    ActionResult,
    NotControllable,
    ServiceInfo,
    ServiceRegistry,
    ServiceState,
    UnknownService,
)
from checkd.control._registry import choose_backend
from checkd.control._states import pid_alive

from .helpers import PY, RecordingRunner, write_pidfile


def test_infos_in_config_order_with_the_httpd_alias(tmp_path: Path) -> None:
    services = {
        "httpd": ServiceSettings(),
        "web": ServiceSettings(start=["true"], stop=["true"], control=False),
        "db": ServiceSettings(unit="postgresql", backend="systemd"),
    }
    registry = ServiceRegistry(services, init_system="sysv", root=tmp_path)
    assert registry.infos() == [
        ServiceInfo("httpd", "apache2", True, "sysv"),
        ServiceInfo("web", None, False, "command"),  # commands control no unit
        ServiceInfo("db", "postgresql", True, "systemd"),
    ]
    assert registry.info("db") == ServiceInfo("db", "postgresql", True, "systemd")


def test_choose_backend() -> None:
    assert choose_backend(ServiceSettings(), "systemd") == "systemd"
    assert choose_backend(ServiceSettings(), "sysv") == "sysv"
    assert choose_backend(ServiceSettings(pidfile=Path("/run/x.pid")), "sysv") == "sysv"
    assert choose_backend(ServiceSettings(start=["x"]), "systemd") == "command"
    assert choose_backend(ServiceSettings(match="x"), "systemd") == "command"
    assert choose_backend(ServiceSettings(start=["x"], backend="sysv"), "systemd") == "sysv"


def test_bad_init_system_and_bad_config_names() -> None:
    with pytest.raises(ValueError, match="init_system"):
        ServiceRegistry({}, init_system="upstart")
    with pytest.raises(ValueError, match="not a valid service name"):
        ServiceRegistry({"a;b": ServiceSettings()}, init_system="sysv")


@pytest.mark.parametrize(
    "name", ["httpd;id", "../x", "httpd --now", "x" * 300, "", "httpd\n", "nosuch", "-httpd"]
)
def test_invalid_or_unknown_names_run_nothing(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "ran"
    cmd = [PY, "-c", f"open({str(marker)!r}, 'w')"]
    runner = RecordingRunner()
    services = {"httpd": ServiceSettings(start=cmd, stop=cmd, restart=cmd, status=cmd, timeout=1)}
    registry = ServiceRegistry(services, init_system="sysv", runner=runner)
    for call in (
        registry.info,
        registry.state,
        lambda n: registry.act(n, "start"),
        lambda n: registry.act(n, "stop"),
    ):
        with pytest.raises(UnknownService) as err:
            call(name)
        assert len(str(err.value)) < 100
    assert runner.calls == []
    assert not marker.exists()


def test_not_controllable_runs_nothing() -> None:
    runner = RecordingRunner()
    registry = ServiceRegistry(
        {"w": ServiceSettings(start=["true"], control=False)}, init_system="sysv", runner=runner
    )
    with pytest.raises(NotControllable):
        registry.act("w", "start")
    with pytest.raises(ValueError, match="action"):
        registry.act("w", "reload")  # type: ignore[arg-type]
    assert runner.calls == []


def _slow_start(tmp_path: Path, name: str, seconds: float) -> ServiceSettings:
    """Start: touch a marker, sleep, then write a pidfile naming this (live) test process."""
    code = (
        "import pathlib, sys, time\n"
        "pathlib.Path(sys.argv[1]).touch()\n"
        "time.sleep(float(sys.argv[2]))\n"
        "pathlib.Path(sys.argv[3]).write_text(sys.argv[4])\n"
    )
    marker, pidfile = tmp_path / f"{name}.running", tmp_path / f"{name}.pid"
    return ServiceSettings(
        start=[PY, "-c", code, str(marker), str(seconds), str(pidfile), str(os.getpid())],
        stop=["rm", "-f", str(pidfile)],
        pidfile=pidfile,
        timeout=10,
    )


def test_second_action_on_the_same_service_is_refused(tmp_path: Path) -> None:
    registry = ServiceRegistry({"slow": _slow_start(tmp_path, "slow", 0.8)}, init_system="sysv")
    results: list[ActionResult] = []
    first = threading.Thread(target=lambda: results.append(registry.act("slow", "start")))
    first.start()
    deadline = time.monotonic() + 5
    while not (tmp_path / "slow.running").exists():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    started = time.monotonic()
    with pytest.raises(ActionInProgress):
        registry.act("slow", "stop")
    assert time.monotonic() - started < 0.05  # refused at once, not queued
    first.join(10)
    assert results[0].ok
    assert registry.act("slow", "stop").ok  # the lock is free again


def test_actions_on_different_services_run_in_parallel(tmp_path: Path) -> None:
    services = {"a": _slow_start(tmp_path, "a", 0.6), "b": _slow_start(tmp_path, "b", 0.6)}
    registry = ServiceRegistry(services, init_system="sysv")
    results: dict[str, ActionResult] = {}
    threads = [
        threading.Thread(target=lambda n=n: results.update({n: registry.act(n, "start")})) for n in services
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    elapsed = time.monotonic() - started
    assert results["a"].ok and results["b"].ok
    assert elapsed < 1.1, f"{elapsed:.2f}s: the two 0.6 s starts did not overlap"


def test_hanging_stop_times_out_with_504_and_the_child_is_killed(tmp_path: Path) -> None:
    runner = RecordingRunner()
    settings = ServiceSettings(
        start=["true"], stop=["sleep", "60"], pidfile=write_pidfile(tmp_path / "x.pid"), timeout=1
    )
    registry = ServiceRegistry({"hang": settings}, init_system="sysv", runner=runner)
    started = time.monotonic()
    result = registry.act("hang", "stop")
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # timeout + 1 s
    assert (result.ok, result.status, result.exit_code) == (False, 504, None)
    assert result.state is ServiceState.ACTIVE
    assert result.message == "stop timed out after 1s; process group killed; hang is active"
    assert runner.calls == [["sleep", "60"]]
    pid = runner.results[0].pid
    assert pid is not None and not pid_alive(pid)


def test_service_binary_missing(tmp_path: Path) -> None:
    """`service` not on PATH: states that need it are unknown, actions answer 502 with a clear message."""
    (tmp_path / "etc/init.d").mkdir(parents=True)
    (tmp_path / "etc/init.d/legacyd").write_text("#!/bin/sh\n")
    (tmp_path / "empty").mkdir()
    runner = RecordingRunner(env={"PATH": str(tmp_path / "empty"), "LANG": "C.UTF-8"})
    registry = ServiceRegistry(
        {"legacyd": ServiceSettings(), "httpd": ServiceSettings()},
        init_system="sysv",
        runner=runner,
        root=tmp_path,
    )
    assert registry.state("legacyd") is ServiceState.UNKNOWN  # no pidfile: `service legacyd status` is needed
    for name in ("legacyd", "httpd"):
        result = registry.act(name, "start")
        assert (result.ok, result.status, result.exit_code) == (False, 502, None)
        assert result.message == "`service` not found"
        assert result.output == ""
    assert registry.states() == {"legacyd": "unknown", "httpd": "not-found"}


def test_action_result_shape(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    code = "import sys; open(sys.argv[1], 'w').write(sys.argv[2]); print('up')"
    settings = ServiceSettings(start=[PY, "-c", code, str(pidfile), str(os.getpid())], pidfile=pidfile)
    before = datetime.now(UTC)
    result = ServiceRegistry({"x": settings}, init_system="sysv").act("x", "start")
    assert result.ok and result.status == 200
    assert (result.service, result.action, result.state, result.exit_code) == ("x", "start", "active", 0)
    assert result.output == "up\n" and result.message == "x started"
    assert result.at.tzinfo is UTC and before <= result.at <= datetime.now(UTC)
    assert 0 <= result.duration_ms < 5000


def test_action_overhead_is_small(tmp_path: Path) -> None:
    """A `true` restart with the pidfile live: verification succeeds on the first, immediate read."""
    runner = RecordingRunner()
    settings = ServiceSettings(restart=["true"], pidfile=write_pidfile(tmp_path / "x.pid"))
    registry = ServiceRegistry({"x": settings}, init_system="sysv", runner=runner)
    overheads = []
    for _ in range(20):
        started = time.monotonic()
        assert registry.act("x", "restart").ok
        overheads.append(time.monotonic() - started - runner.results[-1].duration_s)
    assert sorted(overheads)[len(overheads) // 2] < 0.05


def test_states_on_the_pidfile_path_are_cheap_and_spawn_nothing(tmp_path: Path) -> None:
    (tmp_path / "etc/init.d").mkdir(parents=True)
    services = {}
    for i in range(10):
        (tmp_path / f"etc/init.d/d{i}").write_text("")
        services[f"sysv{i}"] = ServiceSettings(unit=f"d{i}", pidfile=write_pidfile(tmp_path / f"d{i}.pid"))
        services[f"cmd{i}"] = ServiceSettings(start=["true"], pidfile=write_pidfile(tmp_path / f"c{i}.pid"))
    runner = RecordingRunner()
    registry = ServiceRegistry(services, init_system="sysv", runner=runner, root=tmp_path)
    assert set(registry.states().values()) == {ServiceState.ACTIVE}
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        registry.states()
    per_service = (time.perf_counter() - started) / rounds / len(services)
    assert per_service < 0.0002, f"{per_service * 1e6:.1f} µs per service"
    assert runner.calls == []
