"""Debian's prometheus-alertmanager started on free loopback ports for a test, stopped by pid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from loopback_daemon import LoopbackDaemon

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'


class Alertmanager(LoopbackDaemon):
    """One Alertmanager with its own storage dir and config; `alerts()` reads its /api/v2/alerts."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(BINARY, tmp_path, "alertmanager")
        (self.dir / "am.yml").write_text(CONFIG)

    def start(self) -> Alertmanager:
        """Start it and wait until /-/ready answers."""
        config = f"--config.file={self.dir / 'am.yml'}"
        self.launch(["--cluster.listen-address=", f"--storage.path={self.dir}", config], 20)
        return self

    def alerts(self, **params: str) -> list[Any]:
        """Its own list of alerts."""
        response = httpx.get(self.url + "/api/v2/alerts", params=params, timeout=5, trust_env=False)
        response.raise_for_status()
        return list(response.json())
