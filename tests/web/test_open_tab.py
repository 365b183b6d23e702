"""A dashboard tab left open keeps no growing record of its own requests (issue 14: heap flat)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, minutes_ago, seed_checks, wait_ticks

pytestmark = pytest.mark.browser

# The page load alone (scripts, styles, the first refresh's reads) makes more requests than this.
FEW = 15


def test_refreshes_clear_the_resource_timing_entries(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    seed_checks(tmp_path / "data", "web-open", minutes_ago(60, start_min=1), cpu=lambda i: 10.0 + i % 50)
    p = open_page(make_server(tmp_path / "data", args=("--host-name", "web-open")))
    wait_ticks(p.page, 3)
    assert len(p.requests) > FEW  # the tab did make many requests...
    entries = int(p.page.evaluate("performance.getEntriesByType('resource').length"))
    assert entries < FEW, f"{entries} resource timing entries kept after 3 refreshes"  # ...and keeps few
    assert p.errors == [], p.errors
