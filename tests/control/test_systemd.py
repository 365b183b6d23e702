"""systemd backend, tested against a `systemctl` STAND-IN put first on PATH.

These machines have no systemd as PID 1, so the real systemctl cannot be used.
tests/control/fixtures/systemctl is a stand-in shell script that replays what
systemd 252 (Debian 12) prints for the calls checkd makes (`show` blocks in
argument order, blank-line separated, D-Bus property order, `not-found` units;
`start`/`stop`/`restart` exit codes and messages) and logs one line per spawn.
fixtures/systemctl-show.txt is a `systemctl show` transcript in the same format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checkd.config import ServiceSettings
from checkd.control import ServiceRegistry, ServiceState
from checkd.control._systemd import SHOW_PROPERTIES, SystemdService, parse_show, show_argv

from .helpers import FIXTURES, RecordingRunner


class Stub:
    """The systemctl stand-in's state directory and call log."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "systemctl-stub"
        (self.dir / "units").mkdir(parents=True)
        self.runner = RecordingRunner(
            env={
                "PATH": f"{FIXTURES}:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG": "C.UTF-8",
                "SYSTEMCTL_STUB_DIR": str(self.dir),
            }
        )

    def unit(self, unit: str, state: str, *, fail_start: bool = False) -> None:
        (self.dir / "units" / unit).write_text(state + "\n")
        if fail_start:
            (self.dir / "units" / f"{unit}.fail").write_text("")

    def calls(self) -> list[str]:
        log = self.dir / "calls.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def stub(tmp_path: Path) -> Stub:
    return Stub(tmp_path)


def test_parse_recorded_show_output() -> None:
    text = (FIXTURES / "systemctl-show.txt").read_text()
    units = ["apache2", "httpd", "nosuch", "cron", "postgresql@15-main", "ssh"]  # httpd: alias of apache2
    assert parse_show(text, units) == {
        "apache2": ServiceState.ACTIVE,
        "httpd": ServiceState.ACTIVE,  # reloading is still active
        "nosuch": ServiceState.NOT_FOUND,
        "cron": ServiceState.FAILED,
        "postgresql@15-main": ServiceState.ACTIVATING,
        "ssh": ServiceState.DEACTIVATING,
    }


def test_parse_falls_back_to_ids_when_blocks_do_not_line_up() -> None:
    text = "Id=cron.service\nActiveState=active\nLoadState=loaded\n"
    assert parse_show(text, ["cron", "apache2"]) == {
        "cron": ServiceState.ACTIVE,
        "apache2": ServiceState.UNKNOWN,
    }
    assert parse_show("", ["cron"]) == {"cron": ServiceState.UNKNOWN}
    assert parse_show("Id=x.service\nActiveState=maintenance\n", ["x"]) == {"x": ServiceState.UNKNOWN}


def test_show_argv() -> None:
    assert SHOW_PROPERTIES == "Id,ActiveState,LoadState"
    assert show_argv(["a", "b"]) == ["systemctl", "show", "--property=Id,ActiveState,LoadState", "a", "b"]


def test_states_is_one_batched_spawn(stub: Stub) -> None:
    stub.unit("apache2.service", "active")
    stub.unit("cron.service", "failed")
    services = {"httpd": ServiceSettings(), "cron": ServiceSettings(), "gone": ServiceSettings()}
    services |= {f"svc{i}": ServiceSettings() for i in range(17)}
    registry = ServiceRegistry(services, init_system="systemd", runner=stub.runner, root=stub.dir)
    assert {info.backend for info in registry.infos()} == {"systemd"}
    states = registry.states()
    assert list(states) == list(services)  # config order
    assert states["httpd"] is ServiceState.ACTIVE
    assert states["cron"] is ServiceState.FAILED
    assert states["gone"] is ServiceState.NOT_FOUND
    assert states["svc16"] is ServiceState.NOT_FOUND
    units = " ".join(["apache2", "cron", "gone", *(f"svc{i}" for i in range(17))])
    assert stub.calls() == [f"show --property=Id,ActiveState,LoadState {units}"]
    assert len(stub.runner.calls) == 1


def test_states_with_mixed_backends_spawns_once(stub: Stub, tmp_path: Path) -> None:
    stub.unit("apache2.service", "inactive")
    services = {
        "httpd": ServiceSettings(),
        "web": ServiceSettings(start=["true"], pidfile=tmp_path / "web.pid"),
        "cron": ServiceSettings(),
    }
    registry = ServiceRegistry(services, init_system="systemd", runner=stub.runner, root=stub.dir)
    states = registry.states()
    assert states == {"httpd": "inactive", "web": "inactive", "cron": "not-found"}
    assert len(stub.runner.calls) == 1


def test_actions_call_systemctl_with_argv(stub: Stub) -> None:
    stub.unit("apache2.service", "inactive")
    registry = ServiceRegistry(
        {"httpd": ServiceSettings(timeout=5)}, init_system="systemd", runner=stub.runner, root=stub.dir
    )
    for action, state in (("start", "active"), ("restart", "active"), ("stop", "inactive")):
        result = registry.act("httpd", action)  # type: ignore[arg-type]
        assert result.ok, result
        assert (result.status, result.state, result.exit_code) == (200, state, 0)
    show = show_argv(["apache2"])  # the state before each action decides what runs, then verification
    assert stub.runner.calls == [
        *(show, ["systemctl", "start", "apache2"], show),
        *(show, ["systemctl", "restart", "apache2"], show),
        *(show, ["systemctl", "stop", "apache2"], show),
    ]
    assert result.message == "apache2 stopped"


def test_no_op_start_and_stop_and_restart_of_a_stopped_unit(stub: Stub) -> None:
    """The same rule as the other backends: nothing runs when there is nothing to do."""
    stub.unit("apache2.service", "active")
    stub.unit("cron.service", "failed")
    registry = ServiceRegistry(
        {"httpd": ServiceSettings(timeout=5), "cron": ServiceSettings(timeout=5)},
        init_system="systemd",
        runner=stub.runner,
        root=stub.dir,
    )
    start = registry.act("httpd", "start")
    assert (start.ok, start.status, start.exit_code, start.message) == (
        True,
        200,
        None,
        "apache2 already active",
    )
    stop = registry.act("cron", "stop")
    assert (stop.ok, stop.state, stop.message) == (
        True,
        "failed",
        "cron already inactive (failed: not running)",
    )
    assert stub.calls() == [" ".join(show_argv(["apache2"])[1:]), " ".join(show_argv(["cron"])[1:])]
    # A failed unit is stopped; systemd's own restart starts it (and clears the failed state).
    restart = registry.act("cron", "restart")
    assert (restart.ok, restart.state, restart.message) == (True, "active", "cron restarted")
    assert ["systemctl", "restart", "cron"] in stub.runner.calls


def test_action_on_a_missing_unit(stub: Stub) -> None:
    registry = ServiceRegistry(
        {"nosuch": ServiceSettings()}, init_system="systemd", runner=stub.runner, root=stub.dir
    )
    result = registry.act("nosuch", "start")
    assert (result.ok, result.status, result.exit_code, result.state) == (
        False,
        502,
        5,
        ServiceState.NOT_FOUND,
    )
    assert "Unit nosuch.service not found." in result.output
    assert result.message == "start failed with exit code 5; nosuch is not-found"


def test_start_job_fails(stub: Stub) -> None:
    stub.unit("cron.service", "inactive", fail_start=True)
    registry = ServiceRegistry(
        {"cron": ServiceSettings()}, init_system="systemd", runner=stub.runner, root=stub.dir
    )
    result = registry.act("cron", "start")
    assert (result.ok, result.status, result.exit_code, result.state) == (False, 502, 1, ServiceState.FAILED)
    assert "Job for cron.service failed" in result.output


def test_systemctl_missing_or_failing_gives_unknown(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    runner = RecordingRunner(env={"PATH": str(tmp_path / "empty")})
    registry = ServiceRegistry(
        {"httpd": ServiceSettings(), "cron": ServiceSettings()},
        init_system="systemd",
        runner=runner,
        root=tmp_path,
    )
    assert registry.states() == {"httpd": "unknown", "cron": "unknown"}
    result = registry.act("cron", "start")
    assert (result.status, result.exit_code, result.message) == (502, None, "`systemctl` not found")


def test_single_state_uses_show(stub: Stub) -> None:
    stub.unit("cron.service", "activating")
    svc = SystemdService("cron", ServiceSettings(), stub.runner)
    assert svc.state() is ServiceState.ACTIVATING
    assert svc.action_argvs("stop") == [["systemctl", "stop", "cron"]]
