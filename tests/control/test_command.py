"""Command backend: the user's argv lists, against a real small daemon (`python -m http.server`)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

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
    return ServiceSettings.model_validate(
        {
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
    result = ServiceRegistry({"mon": settings}, init_system="sysv", runner=runner).act("mon", "stop")
    assert (result.ok, result.status) == (False, 502)
    assert result.message == "no `stop` command configured for mon"
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
        return CommandService("x", ServiceSettings.model_validate(kw), runner).state()

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
