"""Debian's prometheus started on a free loopback port for a test, scraping given targets; stopped by pid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from loopback_daemon import LoopbackDaemon

BINARY = "/usr/bin/prometheus"


class Prometheus(LoopbackDaemon):
    """One Prometheus with its own TSDB dir, scraping `targets` (host:port) every second."""

    def __init__(self, tmp_path: Path, targets: list[str]) -> None:
        super().__init__(BINARY, tmp_path, "prometheus")
        quoted = ", ".join(f'"{t}"' for t in targets)
        (self.dir / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: checkd\n    static_configs:\n      - targets: [{quoted}]\n"
        )

    def start(self) -> Prometheus:
        """Start it and wait until /-/ready answers."""
        self.launch(
            [f"--storage.tsdb.path={self.dir / 'data'}", f"--config.file={self.dir / 'prometheus.yml'}"], 30
        )
        return self

    def query(self, promql: str) -> list[Any]:
        """The instant vector `promql` gives now (its `result` list)."""
        response = httpx.get(self.url + "/api/v1/query", params={"query": promql}, timeout=5, trust_env=False)
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])
