"""State readers: LSB codes, pidfile plus /proc (no process spawned), zombies and process matches."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from checkd.control import ServiceState
from checkd.control._states import match_state, pid_alive, pidfile_state, read_pid, state_from_lsb

from .helpers import PY, dead_pid, write_pidfile


def test_service_state_is_a_str_with_the_design_vocabulary() -> None:
    assert [s.value for s in ServiceState] == [
        "active",
        "inactive",
        "failed",
        "activating",
        "deactivating",
        "unknown",
        "not-found",
    ]
    assert ServiceState("not-found") is ServiceState.NOT_FOUND and str(ServiceState.ACTIVE) == "active"
    assert isinstance(ServiceState.FAILED, str) and f"{ServiceState.FAILED}" == "failed"


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (0, ServiceState.ACTIVE),
        (1, ServiceState.FAILED),
        (2, ServiceState.FAILED),
        (3, ServiceState.INACTIVE),
        (4, ServiceState.UNKNOWN),
        (150, ServiceState.UNKNOWN),
        (None, ServiceState.UNKNOWN),
    ],
)
def test_lsb_codes(code: int | None, state: ServiceState) -> None:
    assert state_from_lsb(code) is state


def test_read_pid(tmp_path: Path) -> None:
    assert read_pid(tmp_path / "missing.pid") is None
    assert read_pid(write_pidfile(tmp_path / "a.pid", 1234)) == 1234
    (tmp_path / "b.pid").write_text("  42  \nextra\n")
    assert read_pid(tmp_path / "b.pid") == 42
    for bad in ("", "abc", "-5", "0"):
        (tmp_path / "bad.pid").write_text(bad)
        with pytest.raises(ValueError, match="no pid"):
            read_pid(tmp_path / "bad.pid")


def test_pidfile_states(tmp_path: Path) -> None:
    assert pidfile_state(tmp_path / "absent.pid") is ServiceState.INACTIVE
    assert pidfile_state(write_pidfile(tmp_path / "live.pid")) is ServiceState.ACTIVE
    assert pidfile_state(write_pidfile(tmp_path / "stale.pid", dead_pid())) is ServiceState.FAILED
    (tmp_path / "empty.pid").write_text("")
    assert pidfile_state(tmp_path / "empty.pid") is ServiceState.UNKNOWN


def test_pidfile_match_guards_against_a_recycled_pid(tmp_path: Path) -> None:
    pidfile = write_pidfile(tmp_path / "live.pid")  # this pytest process
    assert pidfile_state(pidfile, match="pytest") is ServiceState.ACTIVE
    assert pidfile_state(pidfile, match="no-such-daemon-" + uuid.uuid4().hex) is ServiceState.FAILED


def test_zombie_is_not_alive(tmp_path: Path) -> None:
    proc = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 5
        while Path(f"/proc/{proc.pid}/stat").read_bytes().rsplit(b")", 1)[1][1:2] != b"Z":
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert Path(f"/proc/{proc.pid}").exists()  # still there, as a zombie
        assert not pid_alive(proc.pid)
        assert pidfile_state(write_pidfile(tmp_path / "z.pid", proc.pid)) is ServiceState.FAILED
    finally:
        proc.wait()


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())


def test_match_state() -> None:
    marker = f"checkd-match-{uuid.uuid4().hex}"
    assert match_state(marker) is ServiceState.INACTIVE
    proc = subprocess.Popen([PY, "-c", "import time; time.sleep(30)", marker])
    try:
        deadline = time.monotonic() + 5
        while match_state(marker) is not ServiceState.ACTIVE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
    assert match_state(marker) is ServiceState.INACTIVE
