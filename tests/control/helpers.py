"""Shared test helpers for checkd.control: a recording runner, free ports, dead pids and paths."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from checkd.control import CommandRunner, RunResult

FIXTURES = Path(__file__).parent / "fixtures"
PY = sys.executable
PIDWRAPPER = str(FIXTURES / "pidwrapper.py")


class RecordingRunner(CommandRunner):
    """A real CommandRunner that also records every argv it runs and what came back."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self.calls: list[list[str]] = []
        self.results: list[RunResult] = []
        self._lock = threading.Lock()

    def run(self, argv: Sequence[str], timeout: float) -> RunResult:
        with self._lock:
            self.calls.append(list(argv))
        result = super().run(argv, timeout)
        with self._lock:
            self.results.append(result)
        return result


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def write_pidfile(path: Path, pid: int | None = None) -> Path:
    """Write `pid` (default: this test process, which is alive) into `path`."""
    path.write_text(f"{os.getpid() if pid is None else pid}\n")
    return path
