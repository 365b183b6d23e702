"""Command backend: the user's argv lists, against a real small daemon (`python -m http.server`)."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from checkd.config import ServiceSettings
from checkd.control import ServiceRegistry, ServiceState
from checkd.control._command import CommandService
from checkd.control._runner import CommandRunner
from checkd_process import free_port

from .helpers import PIDWRAPPER, PY, RecordingRunner, dead_pid, write_pidfile


def _get(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        return int(resp.status)


def _http_daemon(tmp_path: Path, port: int, **extra: object) -> ServiceSettings:
    pidfile = tmp_path / "http.pid"
    return ServiceSettings(
        **{
            "start": [PY, PIDWRAPPER, "start", str(pidfile), str(port), str(tmp_path)],
            "stop": [PY, PIDWRAPPER, "stop", str(pidfile)],
            "pidfile": pidfile,
            "timeout": 15,
            **extra,
        }
    )


def test_real_daemon_start_state_stop(tmp_path: Path, reap_pidfiles: list[Path]) -> None:
    port = free_port()
    settings = _http_daemon(tmp_path, port)
    assert settings.pidfile is not None
    reap_pidfiles.append(settings.pidfile)
    registry = ServiceRegistry({"web": settings}, init_system="sysv")
    assert registry.info("web").backend == "command"
    assert registry.state("web") is ServiceState.INACTIVE

    result = registry.act("web", "start")
    assert result.ok, result
    assert (result.status, result.state, result.exit_code) == (200, ServiceState.ACTIVE, 0)
    assert f"serving on 127.0.0.1:{port}" in result.output
    assert registry.states() == {"web": ServiceState.ACTIVE}
    assert _get(port) == 200

    result = registry.act("web", "restart")  # no restart command: stop, then start
    assert result.ok, result
    assert "stopped pid" in result.output and "serving on" in result.output
    assert _get(port) == 200

    result = registry.act("web", "stop")
    assert result.ok, result
    assert (result.status, result.state) == (200, ServiceState.INACTIVE)
    assert not settings.pidfile.exists()
    with pytest.raises(urllib.error.URLError) as refused:
        _get(port)
    assert isinstance(refused.value.reason, ConnectionRefusedError)


def test_start_exits_0_but_service_never_comes_up(tmp_path: Path) -> None:
    settings = ServiceSettings(start=["true"], stop=["true"], pidfile=tmp_path / "never.pid", timeout=1)
    registry = ServiceRegistry({"ghost": settings}, init_system="sysv")
    started = time.monotonic()
    result = registry.act("ghost", "start")
    assert time.monotonic() - started < 2
    assert not result.ok
    assert (result.status, result.exit_code, result.state) == (502, 0, ServiceState.INACTIVE)
    assert result.message == "start exited 0 but ghost is inactive after 1s, expected active"


def test_start_exits_0_while_the_daemon_dies_at_once(tmp_path: Path) -> None:
    """The start command writes the pid of a process that has already died: state failed, 502."""
    pidfile = tmp_path / "dies.pid"
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen(['false']); p.wait()\n"
        "open(sys.argv[1], 'w').write(str(p.pid))\n"
    )
    settings = ServiceSettings(start=[PY, "-c", code, str(pidfile)], pidfile=pidfile, timeout=1)
    result = ServiceRegistry({"dies": settings}, init_system="sysv").act("dies", "start")
    assert not result.ok
    assert (result.status, result.exit_code, result.state) == (502, 0, ServiceState.FAILED)


def test_failing_command_reports_exit_code_and_state(tmp_path: Path) -> None:
    settings = ServiceSettings(
        start=[PY, "-c", "print('boom'); raise SystemExit(7)"], pidfile=tmp_path / "x.pid"
    )
    started = time.monotonic()
    result = ServiceRegistry({"bad": settings}, init_system="sysv").act("bad", "start")
    assert time.monotonic() - started < 5  # no polling after a failed command
    assert (result.ok, result.status, result.exit_code, result.state) == (
        False,
        502,
        7,
        ServiceState.INACTIVE,
    )
    assert result.output == "boom\n"
    assert result.message == "start failed with exit code 7; bad is inactive"


def test_no_command_configured(tmp_path: Path) -> None:
    settings = ServiceSettings(backend="command", pidfile=tmp_path / "x.pid")
    runner = RecordingRunner()
    result = ServiceRegistry({"mon": settings}, init_system="sysv", runner=runner).act("mon", "start")
    assert (result.ok, result.status) == (False, 502)
    assert result.message == "no `start` command configured for mon"
    assert runner.calls == []


def test_restart_argv_choice() -> None:
    runner = CommandRunner()
    both = CommandService("x", ServiceSettings(start=["a"], stop=["b"]), runner)
    assert both.action_argvs("restart") == [["b"], ["a"]]
    own = CommandService("x", ServiceSettings(start=["a"], stop=["b"], restart=["c", "--now"]), runner)
    assert own.action_argvs("restart") == [["c", "--now"]]
    assert CommandService("x", ServiceSettings(start=["a"]), runner).action_argvs("restart") == []


def test_state_sources(tmp_path: Path) -> None:
    runner = RecordingRunner()

    def state(**kw: object) -> ServiceState:
        return CommandService("x", ServiceSettings(**kw), runner).state()

    assert state(pidfile=write_pidfile(tmp_path / "live.pid")) is ServiceState.ACTIVE
    assert state(pidfile=write_pidfile(tmp_path / "dead.pid", dead_pid())) is ServiceState.FAILED
    assert state(pidfile=tmp_path / "none.pid") is ServiceState.INACTIVE
    assert runner.calls == []  # the pidfile path spawns nothing
    assert state(match=f"checkd-nothing-{uuid.uuid4().hex}") is ServiceState.INACTIVE
    assert state(status=[PY, "-c", "raise SystemExit(3)"]) is ServiceState.INACTIVE
    assert state(status=[PY, "-c", "raise SystemExit(0)"]) is ServiceState.ACTIVE
    assert state(status=["checkd-no-such-status"]) is ServiceState.UNKNOWN
    assert state() is ServiceState.UNKNOWN


def test_match_state_with_a_real_process(tmp_path: Path, reap_pidfiles: list[Path]) -> None:
    marker = f"checkd-daemon-{uuid.uuid4().hex}"
    pidfile = tmp_path / "m.pid"
    reap_pidfiles.append(pidfile)
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', sys.argv[2]],\n"
        "                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "open(sys.argv[1], 'w').write(str(p.pid))\n"
    )
    kill = [PY, "-c", "import os, sys; os.kill(int(open(sys.argv[1]).read()), 9)", str(pidfile)]
    settings = ServiceSettings(
        start=[PY, "-c", code, str(pidfile), marker], stop=kill, match=marker, timeout=5
    )
    registry = ServiceRegistry({"m": settings}, init_system="sysv")
    assert registry.state("m") is ServiceState.INACTIVE
    assert registry.act("m", "start").state is ServiceState.ACTIVE
    result = registry.act("m", "stop")
    assert result.ok and result.state is ServiceState.INACTIVE


# -- nothing to do is not an error (LSB): start on active, stop on stopped, restart of stopped -----
def _daemons(tmp_path: Path) -> list[int]:
    """Pids of live http.server processes serving `tmp_path` (the pidwrapper daemons of this test)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if "http.server" in cmdline and str(tmp_path) in cmdline and proc.info["status"] != "zombie":
            found.append(proc.info["pid"])
    return found


def test_start_on_an_active_daemon_runs_nothing_and_leaves_one_daemon(
    tmp_path: Path, reap_pidfiles: list[Path]
) -> None:
    port = free_port()
    settings = _http_daemon(tmp_path, port)
    assert settings.pidfile is not None
    reap_pidfiles.append(settings.pidfile)
    runner = RecordingRunner()
    registry = ServiceRegistry({"web": settings}, init_system="sysv", runner=runner)
    assert registry.act("web", "start").ok
    pid = settings.pidfile.read_text()
    runner.calls.clear()

    again = registry.act("web", "start")
    assert (again.ok, again.status, again.state, again.exit_code) == (True, 200, ServiceState.ACTIVE, None)
    assert again.message == "web already active"
    assert runner.calls == []
    assert settings.pidfile.read_text() == pid
    assert _daemons(tmp_path) == [int(pid)]
    assert _get(port) == 200


def test_stop_on_an_inactive_service_runs_nothing(tmp_path: Path) -> None:
    runner = RecordingRunner()
    registry = ServiceRegistry(
        {"web": _http_daemon(tmp_path, free_port())}, init_system="sysv", runner=runner
    )
    result = registry.act("web", "stop")
    assert (result.ok, result.status, result.state, result.exit_code) == (
        True,
        200,
        ServiceState.INACTIVE,
        None,
    )
    assert result.message == "web already inactive"
    assert runner.calls == []


def test_a_stale_pidfile_counts_as_stopped(tmp_path: Path, reap_pidfiles: list[Path]) -> None:
    """LSB: a pidfile whose process is gone is "not running": stop has nothing to do, start starts."""
    port = free_port()
    settings = _http_daemon(tmp_path, port)
    assert settings.pidfile is not None
    reap_pidfiles.append(settings.pidfile)
    write_pidfile(settings.pidfile, dead_pid())
    runner = RecordingRunner()
    registry = ServiceRegistry({"web": settings}, init_system="sysv", runner=runner)
    assert registry.state("web") is ServiceState.FAILED  # reported as failed: it died without cleaning up

    stop = registry.act("web", "stop")
    assert (stop.ok, stop.status, stop.exit_code) == (True, 200, None)
    assert stop.message == "web already inactive (failed: not running)"
    assert runner.calls == []

    start = registry.act("web", "start")
    assert (start.ok, start.state, start.exit_code) == (True, ServiceState.ACTIVE, 0)
    assert _get(port) == 200


def test_a_stop_that_leaves_a_stale_pidfile_succeeds(tmp_path: Path, reap_pidfiles: list[Path]) -> None:
    """A stop command that kills the daemon but leaves its pidfile: stopped, reported as failed, 200."""
    port = free_port()
    pidfile = tmp_path / "http.pid"
    reap_pidfiles.append(pidfile)
    kill = [PY, "-c", "import os, sys; os.kill(int(open(sys.argv[1]).read()), 9)", str(pidfile)]
    settings = _http_daemon(tmp_path, port, stop=kill, timeout=3)
    registry = ServiceRegistry({"web": settings}, init_system="sysv")
    assert registry.act("web", "start").ok
    started = time.monotonic()
    result = registry.act("web", "stop")
    assert (result.ok, result.status, result.state) == (True, 200, ServiceState.FAILED), result
    assert result.message == "web stopped"
    assert time.monotonic() - started < 2
    assert pidfile.exists() and _daemons(tmp_path) == []


def test_restart_of_a_stopped_service_starts_it_even_when_stop_would_fail(
    tmp_path: Path, reap_pidfiles: list[Path]
) -> None:
    port = free_port()
    failing_stop = [PY, "-c", "print('no pidfile'); raise SystemExit(1)"]
    settings = _http_daemon(tmp_path, port, stop=failing_stop)
    assert settings.pidfile is not None
    reap_pidfiles.append(settings.pidfile)
    runner = RecordingRunner()
    registry = ServiceRegistry({"web": settings}, init_system="sysv", runner=runner)
    result = registry.act("web", "restart")
    assert (result.ok, result.status, result.state, result.exit_code) == (True, 200, ServiceState.ACTIVE, 0)
    assert result.message == "web was inactive; started"
    assert runner.calls == [settings.start]
    assert _get(port) == 200


def test_a_command_service_shows_no_unit_unless_one_is_configured(tmp_path: Path) -> None:
    """A command-backed httpd controls its commands, not apache2: no unit in infos or messages."""
    pidfile = tmp_path / "h.pid"
    code = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    services = {
        "httpd": ServiceSettings(start=[PY, "-c", code, str(pidfile), str(os.getpid())], pidfile=pidfile),
        "named": ServiceSettings(unit="myapp", start=["true"], pidfile=tmp_path / "n.pid", timeout=1),
    }
    registry = ServiceRegistry(services, init_system="sysv", root=tmp_path)
    assert [(i.name, i.unit, i.backend) for i in registry.infos()] == [
        ("httpd", None, "command"),
        ("named", "myapp", "command"),
    ]
    assert registry.act("httpd", "start").message == "httpd started"
    assert registry.act("httpd", "start").message == "httpd already active"
    assert (
        registry.act("named", "start").message
        == "start exited 0 but myapp is inactive after 1s, expected active"
    )
