"""Fixtures for checkd.control tests."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkd.control._states import pid_alive, read_pid


@pytest.fixture
def reap_pidfiles() -> Iterator[list[Path]]:
    """Pidfiles of daemons a test starts; any still alive at teardown is killed by its pid."""
    pidfiles: list[Path] = []
    yield pidfiles
    for pidfile in pidfiles:
        try:
            pid = read_pid(pidfile)
        except ValueError:
            continue
        if pid is not None and pid != os.getpid() and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
