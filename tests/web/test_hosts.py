"""One host at a time: the picker switches every panel, a stale host is marked, host and range in the URL."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, minutes_ago, seed_checks, wait_ticks

pytestmark = pytest.mark.browser

LOCAL = "hosts-local"
OTHER = "hosts-stale"
CONFIG = """
[services.locked]
backend = "command"
control = false
status = ["/bin/true"]
"""


@pytest.fixture
def two_hosts(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    """This checkd (sampling every second) and a host whose newest check is 7 min old at a 60 s interval."""
    data = tmp_path / "two"
    seed_checks(data, OTHER, minutes_ago(60, start_min=7), cpu=lambda i: 30.0, services={"db": "failed"})
    config = tmp_path / "checkd.toml"
    config.write_text(CONFIG)
    return make_server(data, args=("--host-name", LOCAL, "--config", str(config)))


def test_host_switch_changes_every_panel_and_the_url(
    two_hosts: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    refused = two_hosts.post("/api/v2/services/locked/stop", headers=two_hosts.auth())
    assert refused.status_code == 403  # a refused attempt: audited for this host
    p = open_page(two_hosts)
    page = p.page
    page.wait_for_selector("#actions-body tr")
    assert "refused (403)" in page.inner_text("#actions-body")
    page.wait_for_selector('#services-body tr[data-service="locked"]')
    assert page.locator("#latest-stale").is_hidden()

    page.select_option("#host-select", OTHER)
    page.wait_for_function(f"() => document.querySelector('#chart-cpu').dataset.host === '{OTHER}'")
    wait_ticks(page)
    assert f"?host={OTHER}" in page.url
    assert OTHER in page.inner_text("#latest-at")
    assert page.locator("#latest-stale").is_visible() and "stale" in (
        page.get_attribute("#latest", "class") or ""
    )
    assert page.get_attribute("#sampler-state", "data-state") == "stale"
    assert OTHER in page.inner_text("#sampler-note") and "about every 60 s" in page.inner_text(
        "#sampler-interval"
    )
    assert page.is_disabled("#sampler-start") and page.is_disabled("#sampler-stop")
    assert page.locator('#services-body tr[data-service="locked"]').count() == 0
    db = page.locator('#services-body tr[data-service="db"]')
    assert db.get_attribute("data-state") == "failed"
    assert all(db.locator("button").nth(i).is_disabled() for i in range(3))
    since = db.locator(".since").inner_text()  # failed in every check, but only up to the last one
    assert re.fullmatch(r"in every check up to \d\d:\d\d:\d\d", since), since
    assert page.inner_text("#services-host") == f"on {OTHER}"
    assert page.locator("#actions-empty").is_visible()  # the other host has no actions
    page.wait_for_function(  # every chart, not only the first
        f"() => [...document.querySelectorAll('.chart')].every(f => f.dataset.host === '{OTHER}')"
    )
    assert OTHER in page.inner_text("#probes-empty") and OTHER in page.inner_text("#processes-empty")
    text = page.inner_text("#chart-cpu .chart-text")  # its newest value is minutes old, not "now"
    assert "newest 30.0 % at " in text and " now " not in text, text
    # its states come from its newest check: as old, and greyed as stale with it
    assert page.inner_text("#services-read").startswith("· stale: checked 7 min ago")
    assert "stale" in (page.get_attribute("#services", "class") or "")
    assert page.eval_on_selector("#services tbody", "e => getComputedStyle(e).filter") == "grayscale(1)"
    status = page.inner_text("#status-text")
    assert "newest check 7 min old (stale" in status and "db failed" in status, status
    p.shot("host-switched-stale")

    page.click('#range button[data-range="24h"]')
    page.wait_for_function("() => location.search.includes('range=24h')")
    page.reload()  # the address keeps the host and the range
    page.wait_for_function(f"() => document.querySelector('#chart-cpu').dataset.host === '{OTHER}'")
    assert page.input_value("#host-select") == OTHER
    assert page.get_attribute('#range button[data-range="24h"]', "aria-pressed") == "true"
    assert page.get_attribute("#chart-cpu", "data-range") == "24h"
    assert int(page.get_attribute("#chart-cpu", "data-points") or 0) >= 10  # 1 h of checks in a 24 h chart

    page.select_option("#host-select", LOCAL)
    page.wait_for_selector('#services-body tr[data-service="locked"]')
    page.wait_for_selector("#sampler-state[data-state=running]")
    assert "host=" not in page.url
    assert "stale" not in (page.get_attribute("#services", "class") or "")
    assert p.errors == [], p.errors


def test_switching_host_while_a_remote_host_is_still_being_read(
    two_hosts: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    held: list[Any] = []
    p = open_page(two_hosts)
    page = p.page
    page.wait_for_selector('#services-body tr[data-service="locked"]')

    # The read of the other host's interval (its newest checks) is held until the picker has switched back.
    def hold(route: Any) -> None:  # Playwright takes a Python function (not a bound builtin) here
        held.append(route)

    page.route("**/api/v2/checks?*limit=7*", hold)
    page.select_option("#host-select", OTHER)
    deadline = time.monotonic() + 20
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert held, "the other host's interval was not read"
    page.select_option("#host-select", LOCAL)
    page.wait_for_selector('#services-body tr[data-service="locked"]')
    for route in held:
        route.continue_()
    wait_ticks(page, 2)
    assert page.get_attribute("#sampler-state", "data-state") == "running"
    assert p.errors == [], p.errors
