"""Debian's prometheus-alertmanager started on free loopback ports for a test, stopped by pid."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkd_process import free_port

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'


class Alertmanager:
    """One Alertmanager with its own storage dir and config; `alerts()` reads its /api/v2/alerts."""

    def __init__(self, tmp_path: Path) -> None:
        if shutil.which(BINARY) is None:
            pytest.skip(f"{BINARY} is not installed (scripts/system-deps.sh installs it)")
        self.port = free_port()
        self.dir = tmp_path / "alertmanager"
        self.dir.mkdir()
        (self.dir / "am.yml").write_text(CONFIG)
        self.log = self.dir / "log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Alertmanager:
        """Start it and wait until /-/ready answers."""
        cmd = [
            BINARY,
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            f"--storage.path={self.dir}",
            f"--config.file={self.dir / 'am.yml'}",
        ]
        self.proc = subprocess.Popen(cmd, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/-/ready", timeout=1, trust_env=False).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"alertmanager did not start:\n{self.log.read_text()}")

    def alerts(self, **params: str) -> list[Any]:
        """Its own list of alerts."""
        response = httpx.get(self.url + "/api/v2/alerts", params=params, timeout=5, trust_env=False)
        response.raise_for_status()
        return list(response.json())

    def stop(self) -> None:
        """Stop it by pid."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
