"""SysV backend: `service UNIT ACTION`, state from pidfile plus /proc, LSB fallback, and the real apache2."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from apache import apache_port, http_status, require_apache
from checkd.config import ServiceSettings
from checkd.control import ServiceRegistry, ServiceState
from checkd.control._runner import CommandRunner
from checkd.control._sysv import SysvService, apache_pidfile

from .helpers import RecordingRunner, dead_pid, write_pidfile

DEBIAN_ENVVARS = """\
# envvars - default environment variables for apache2ctl
unset HOME
# for supporting multiple apache2 instances
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
\tSUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
else
\tSUFFIX=
fi
export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP=www-data
# temporary state file location. This might be changed to /run in Wheezy+1
export APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid
export APACHE_RUN_DIR=/var/run/apache2$SUFFIX
"""


def _root_with(tmp_path: Path, *files: str) -> Path:
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("#!/bin/sh\n")
    return tmp_path


def test_apache_pidfile_from_debian_envvars(tmp_path: Path) -> None:
    (tmp_path / "etc/apache2").mkdir(parents=True)
    (tmp_path / "etc/apache2/envvars").write_text(DEBIAN_ENVVARS)
    assert apache_pidfile("apache2", tmp_path) == tmp_path / "var/run/apache2/apache2.pid"
    (tmp_path / "etc/apache2/envvars").write_text('export APACHE_PID_FILE="/run/custom/httpd.pid"\n')
    assert apache_pidfile("apache2", tmp_path) == tmp_path / "run/custom/httpd.pid"


def test_apache_pidfile_defaults_and_instances(tmp_path: Path) -> None:
    assert apache_pidfile("apache2", tmp_path) == tmp_path / "var/run/apache2/apache2.pid"
    (tmp_path / "etc/apache2-www").mkdir(parents=True)
    (tmp_path / "etc/apache2-www/envvars").write_text(DEBIAN_ENVVARS)
    assert apache_pidfile("apache2@www", tmp_path) == tmp_path / "var/run/apache2-www/apache2.pid"
    assert apache_pidfile("nginx", tmp_path) is None


def test_apache_pidfile_on_this_machine() -> None:
    envvars = Path("/etc/apache2/envvars")
    if not envvars.exists():
        pytest.skip("apache2 is not installed (no /etc/apache2/envvars)")
    assert apache_pidfile("apache2") == Path("/var/run/apache2/apache2.pid")


def test_action_argv_is_service_unit_action() -> None:
    svc = SysvService("apache2", ServiceSettings(), CommandRunner())
    assert svc.action_argvs("start") == [["service", "apache2", "start"]]
    assert svc.action_argvs("restart") == [["service", "apache2", "restart"]]
    custom = SysvService("apache2", ServiceSettings(stop=["apache2ctl", "graceful-stop"]), CommandRunner())
    assert custom.action_argvs("stop") == [["apache2ctl", "graceful-stop"]]


def test_state_without_spawning(tmp_path: Path) -> None:
    """Pidfile plus /proc: nothing is run, whatever the state."""
    runner = RecordingRunner()
    _root_with(tmp_path, "etc/init.d/apache2")
    svc = SysvService("apache2", ServiceSettings(), runner, tmp_path)
    pidfile = tmp_path / "var/run/apache2/apache2.pid"
    assert svc.state() is ServiceState.INACTIVE  # no pidfile
    pidfile.parent.mkdir(parents=True)
    write_pidfile(pidfile)
    assert svc.state() is ServiceState.ACTIVE
    write_pidfile(pidfile, dead_pid())
    assert svc.state() is ServiceState.FAILED  # LSB 1: dead, pidfile left
    assert runner.calls == []


def test_not_found_without_init_script(tmp_path: Path) -> None:
    runner = RecordingRunner()
    assert SysvService("apache2", ServiceSettings(), runner, tmp_path).state() is ServiceState.NOT_FOUND
    assert runner.calls == []


def test_configured_and_conventional_pidfiles(tmp_path: Path) -> None:
    _root_with(tmp_path, "etc/init.d/mydaemon")
    runner = RecordingRunner()
    configured = write_pidfile(tmp_path / "elsewhere.pid")
    assert (
        SysvService("mydaemon", ServiceSettings(pidfile=configured), runner, tmp_path).state()
        is ServiceState.ACTIVE
    )
    (tmp_path / "run").mkdir()
    write_pidfile(tmp_path / "run/mydaemon.pid", dead_pid())
    assert SysvService("mydaemon", ServiceSettings(), runner, tmp_path).state() is ServiceState.FAILED
    assert runner.calls == []


def _fake_service(bin_dir: Path, exit_code: int) -> None:
    """A `service` stand-in that exits with a fixed LSB status code."""
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "service").write_text(f'#!/bin/sh\necho "$@"\nexit {exit_code}\n')
    (bin_dir / "service").chmod(0o755)


@pytest.mark.parametrize(("code", "state"), [(0, "active"), (1, "failed"), (3, "inactive"), (4, "unknown")])
def test_lsb_status_fallback_without_pidfile(tmp_path: Path, code: int, state: str) -> None:
    _root_with(tmp_path, "etc/init.d/mydaemon")
    _fake_service(tmp_path / "bin", code)
    runner = RecordingRunner(env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"})
    assert SysvService("mydaemon", ServiceSettings(), runner, tmp_path).state() == state
    assert runner.calls == [["service", "mydaemon", "status"]]


def test_service_binary_missing_gives_unknown(tmp_path: Path) -> None:
    _root_with(tmp_path, "etc/init.d/mydaemon")
    (tmp_path / "empty").mkdir()
    runner = CommandRunner(env={"PATH": str(tmp_path / "empty")})
    assert SysvService("mydaemon", ServiceSettings(), runner, tmp_path).state() is ServiceState.UNKNOWN


# --- the real apache2 -------------------------------------------------------------------------


@pytest.mark.root
def test_real_apache2_start_and_stop_through_the_registry() -> None:
    """Starts the machine's apache2 through ServiceRegistry.act("httpd", ...), fetches /, stops it."""
    require_apache()
    port = apache_port()
    registry = ServiceRegistry({"httpd": ServiceSettings(timeout=30)})
    assert registry.info("httpd").unit in ("apache2", "httpd")
    try:
        result = registry.act("httpd", "start")
        assert result.ok, result
        assert (result.status, result.state, result.exit_code) == (200, ServiceState.ACTIVE, 0)
        assert result.message == f"{registry.info('httpd').unit} started"
        assert registry.states()["httpd"] is ServiceState.ACTIVE
        assert http_status(port) == 200
        pidfile = apache_pidfile(registry.info("httpd").unit or "")
        assert pidfile is not None
        pid = pidfile.read_text()
        again = registry.act("httpd", "start")  # `service apache2 start` is not run a second time
        assert (again.ok, again.exit_code, again.message) == (
            True,
            None,
            f"{registry.info('httpd').unit} already active",
        )
        assert pidfile.read_text() == pid

        result = registry.act("httpd", "stop")
        assert result.ok, result
        assert (result.status, result.state) == (200, ServiceState.INACTIVE)
        assert registry.state("httpd") is ServiceState.INACTIVE
        assert http_status(port) == "refused"
        again = registry.act("httpd", "stop")
        assert (again.ok, again.exit_code, again.state) == (True, None, ServiceState.INACTIVE)
    finally:
        if registry.state("httpd") is not ServiceState.INACTIVE:
            registry.act("httpd", "stop")
        deadline = time.monotonic() + 10
        while registry.state("httpd") is ServiceState.ACTIVE and time.monotonic() < deadline:
            time.sleep(0.1)
