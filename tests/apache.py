"""The machine's real apache2 for tests: whether it can be used, its port, and a GET of /."""

from __future__ import annotations

import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def require_apache() -> None:
    """Skip (saying why) unless we are root and apache2 is installed."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start and stop apache2")
    if (
        not Path("/etc/init.d/apache2").exists()
        or shutil.which("apache2ctl", path="/usr/sbin:/usr/bin") is None
    ):
        pytest.skip("apache2 is not installed (`make test` as root installs it)")


def apache_port() -> int:
    """The port apache2 listens on, from /etc/apache2/ports.conf."""
    for line in Path("/etc/apache2/ports.conf").read_text().splitlines():
        found = re.match(r"\s*Listen\s+(?:\S*:)?(\d+)\s*$", line)
        if found:
            return int(found.group(1))
    return 80


def http_status(port: int) -> int | str:
    """Status of GET http://127.0.0.1:PORT/, or "refused" when nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            return int(resp.status)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return "refused"
        raise
