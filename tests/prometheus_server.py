"""Debian's prometheus started on a free loopback port for a test, scraping given targets; stopped by pid."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkd_process import free_port

BINARY = "/usr/bin/prometheus"


class Prometheus:
    """One Prometheus with its own TSDB dir, scraping `targets` (host:port) every second."""

    def __init__(self, tmp_path: Path, targets: list[str]) -> None:
        if shutil.which(BINARY) is None:
            pytest.skip(f"{BINARY} is not installed (scripts/system-deps.sh installs it)")
        self.port = free_port()
        self.dir = tmp_path / "prometheus"
        self.dir.mkdir()
        quoted = ", ".join(f'"{t}"' for t in targets)
        (self.dir / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: checkd\n    static_configs:\n      - targets: [{quoted}]\n"
        )
        self.log = self.dir / "log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Prometheus:
        """Start it and wait until /-/ready answers."""
        cmd = [
            BINARY,
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--config.file={self.dir / 'prometheus.yml'}",
        ]
        self.proc = subprocess.Popen(cmd, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/-/ready", timeout=1, trust_env=False).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"prometheus did not start:\n{self.log.read_text()}")

    def query(self, promql: str) -> list[Any]:
        """The instant vector `promql` gives now (its `result` list)."""
        response = httpx.get(self.url + "/api/v1/query", params={"query": promql}, timeout=5, trust_env=False)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def stop(self) -> None:
        """Stop it by pid."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
