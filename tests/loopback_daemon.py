"""A Debian daemon (prometheus, alertmanager) run by a test on a free loopback port, stopped by pid."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from checkd_process import free_port


class LoopbackDaemon:
    """`binary` with its own directory under the test's tmp_path; skipped where it is not installed."""

    def __init__(self, binary: str, tmp_path: Path, name: str) -> None:
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} is not installed (scripts/system-deps.sh installs it)")
        self.binary = binary
        self.name = name
        self.port = free_port()
        self.dir = tmp_path / name
        self.dir.mkdir()
        self.log = self.dir / "log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def launch(self, args: list[str], wait_s: float) -> None:
        """Start it with `args` and wait until /-/ready answers."""
        self.proc = subprocess.Popen(
            [self.binary, f"--web.listen-address=127.0.0.1:{self.port}", *args],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/-/ready", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Stop it by pid."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
