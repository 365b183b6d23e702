"""Chart markers for every action in the charted range (not only "Latest actions"), read in bounded pages;
a followed marker's row and #fragment survive a range change."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from checkd_process import CheckdProcess

from .helpers import CHARTS_CONFIG, CHARTS_HOST, Page, minutes_ago, seed_checks, seed_sampler_audit

pytestmark = pytest.mark.browser

MARKERS = "#chart-cpu a.marker"


def test_every_action_in_the_range_is_marked_and_a_followed_marker_keeps_its_fragment(
    make_server: Callable[..., CheckdProcess], tmp_path: Path, open_page: Callable[..., Page]
) -> None:
    data = tmp_path / "marks"
    seed_checks(data, CHARTS_HOST, minutes_ago(180, start_min=1), cpu=lambda i: 10.0 + (i * 7) % 76)
    now = time.time()
    # 14 sampler stops and starts 3 min apart in the last hour (more than "Latest actions" shows), and
    # one 2 h ago: outside the hour, inside 24 h.
    hour = [(now - 50 * 60 + 180 * i, "ops", "stop" if i % 2 == 0 else "start") for i in range(14)]
    early, *ids = seed_sampler_audit(data, CHARTS_HOST, [(now - 120 * 60, "early", "stop"), *hour])
    config = tmp_path / "checkd.toml"
    config.write_text(CHARTS_CONFIG)
    server = make_server(data, args=("--host-name", CHARTS_HOST, "--config", str(config)))

    p = open_page(server, viewport={"width": 1400, "height": 1000})
    page = p.page
    page.wait_for_function(f"() => document.querySelectorAll('{MARKERS}').length >= 14", timeout=30_000)
    marked = page.eval_on_selector_all(MARKERS, "ms => ms.map(m => m.getAttribute('href'))")
    assert sorted(marked) == sorted(f"#action-{i}" for i in ids), marked  # all 14, not the newest 10
    assert page.locator("#actions-body tr").count() == 10  # the table itself shows the newest 10
    assert page.locator("#chart-cpu .sampler-off").count() == 7  # every stop to its start is hatched
    assert page.locator("#markers-clipped").is_hidden()  # every action of the range is marked
    limits = [int(parse_qs(urlparse(u).query)["limit"][0]) for u in p.requests if "/api/v2/actions" in u]
    assert limits and max(limits) <= 10_000, limits  # bounded reads
    p.shot("markers-every-action-in-the-hour")

    # More actions between two reads than a read of the newest shows: the gap is read back.
    for _ in range(12):
        assert server.post("/api/v2/services/locked/restart", headers=server.auth()).status_code == 403
    newest = f'{MARKERS}[title*="locked restart by api"]'
    page.wait_for_function(
        f"() => (document.querySelector('{newest}')?.title || '').includes('and 11 older actions here')",
        timeout=60_000,  # "Latest actions" is read every 30 s
    )

    oldest = page.locator(f'{MARKERS}[href="#action-{ids[0]}"]')
    oldest.click()  # older than the table's 10: its row is shown, and followed
    assert urlparse(page.url).fragment == f"action-{ids[0]}"
    row = page.locator(f"#action-{ids[0]}")
    assert row.evaluate("r => r.matches(':target')") and row.is_visible()
    assert row.locator("td").all_inner_texts()[1:5] == ["ops", "sampler", "stop", "ok"]
    p.shot("markers-older-row-followed")

    page.click('#range button[data-range="24h"]')
    page.wait_for_function("() => location.search.includes('range=24h')")
    assert urlparse(page.url).fragment == f"action-{ids[0]}"  # the followed row stays in the address
    page.locator(f'{MARKERS}[href="#action-{early}"]').wait_for(state="attached", timeout=30_000)
    # A 24 h axis names the day where one begins, not "00:00".
    axis = (page.get_attribute("#chart-cpu", "data-axis") or "").split("|")
    assert "00:00" not in axis and any(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}", t) for t in axis), axis

    page.reload()  # an address naming an older action: its row is shown and highlighted
    row.wait_for(timeout=30_000)
    page.wait_for_function(f"() => document.getElementById('action-{ids[0]}').classList.contains('followed')")
    assert row.is_visible() and page.locator("#actions-body tr.followed").count() == 1
    p.shot("markers-followed-row-after-reload")
    assert p.errors == [], p.errors


def test_a_range_with_more_actions_than_one_read_says_its_markers_are_clipped(
    make_server: Callable[..., CheckdProcess], tmp_path: Path, open_page: Callable[..., Page]
) -> None:
    data = tmp_path / "clipped"
    seed_checks(data, CHARTS_HOST, minutes_ago(60, start_min=1), cpu=lambda i: 20.0)
    now = time.time()
    # More sampler stops and starts in the hour than /api/v2/actions answers at most (10,000).
    many = [(now - 3000 + 0.25 * i, "ops", "stop" if i % 2 == 0 else "start") for i in range(10_050)]
    seed_sampler_audit(data, CHARTS_HOST, many)
    config = tmp_path / "checkd.toml"
    config.write_text(CHARTS_CONFIG)
    server = make_server(data, args=("--host-name", CHARTS_HOST, "--config", str(config)))

    p = open_page(server, viewport={"width": 1400, "height": 1000})
    page = p.page
    page.locator("#markers-clipped").wait_for(timeout=60_000)
    assert "newest 10,000 actions" in page.inner_text("#markers-clipped")
    assert page.locator(MARKERS).count() >= 1
    p.shot("markers-clipped")
    assert p.errors == [], p.errors
