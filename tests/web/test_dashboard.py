"""The dashboard in a real chromium against a real checkd: data, charts, range and host pickers, CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, minutes_ago, seed_checks, wait_ticks

pytestmark = pytest.mark.browser

LOCAL = "web-local"
OTHER = "web-other"


def cpu_wave(i: int) -> float:
    """A cpu series that is never flat: 10..85 %."""
    return 10.0 + (i * 7) % 76


@pytest.fixture
def seeded(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    """A server whose database holds 20 h of this host's checks and 3-day-old checks of another host."""
    data = tmp_path / "seeded"
    seed_checks(data, LOCAL, minutes_ago(1200, start_min=2), cpu=cpu_wave)
    seed_checks(data, OTHER, minutes_ago(120, start_min=3 * 24 * 60), cpu=cpu_wave)
    return make_server(data, args=("--host-name", LOCAL))


def chart(page: Any, name: str) -> dict[str, str]:
    """The data-* attributes of chart figure `name` (points, range, resolution)."""
    result: dict[str, str] = page.eval_on_selector(f"#chart-{name}", "e => ({...e.dataset})")
    return result


def coloured_pixels(page: Any, name: str) -> int:
    """How many pixels of chart `name`'s canvas are painted in the series blue (#2563eb)."""
    return int(
        page.eval_on_selector(
            f"#chart-{name} canvas",
            """c => {
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let n = 0;
              for (let i = 0; i < d.length; i += 4) {
                const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
                if (a > 200 && b > 180 && r < 90 && g > 70 && g < 140) n++;
              }
              return n;
            }""",
        )
    )


def wait_points(page: Any, name: str, minimum: int = 1) -> None:
    """Wait until chart `name` has drawn at least `minimum` points."""
    page.wait_for_function(
        f"() => Number(document.querySelector('#chart-{name}').dataset.points || 0) >= {minimum}"
    )


def test_dashboard_loads_with_data_and_draws_charts(
    seeded: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(seeded)
    page = p.page
    page.wait_for_selector("#latest-body:not([hidden])")
    assert page.text_content("#latest-cpu").strip().endswith("%")
    assert page.text_content("#latest-mem").strip().endswith("%")
    assert "/" in page.inner_text("#disks")
    assert page.locator("#sampler-state").get_attribute("data-state") == "running"
    assert "every 1 s" in page.text_content("#sampler-interval")
    page.wait_for_selector('#services-body tr[data-service="httpd"] .state[data-state]')
    assert page.locator('#services-body tr[data-service="httpd"] button').count() == 3
    for name in ("cpu", "mem", "disk"):
        wait_points(page, name, 30)
    assert coloured_pixels(page, "cpu") > 100, "the cpu chart's canvas has no drawn line"
    assert page.locator("#chart-cpu .chart-msg").is_hidden()
    wait_ticks(page, 2)  # it refreshes by itself (interval 1 s) without reloading
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    p.shot("dashboard-loaded")
    assert p.foreign_requests() == []
    assert p.errors == [], p.errors  # no script errors and no CSP violations


def test_range_picker_changes_the_chart(seeded: CheckdProcess, open_page: Callable[..., Page]) -> None:
    p = open_page(seeded)
    page = p.page
    wait_points(page, "cpu", 30)
    hour = chart(page, "cpu")
    assert hour["range"] == "1h"
    assert int(hour["points"]) <= 120  # one seeded check a minute over the last hour, plus live ones
    page.click('#range button[data-range="24h"]')
    page.wait_for_function("() => document.querySelector('#chart-cpu').dataset.range === '24h'")
    # 20 h of seeded checks at 1-minute rollups, in buckets of a few minutes: about 300 points.
    page.wait_for_function("() => Number(document.querySelector('#chart-cpu').dataset.points) > 200")
    day = chart(page, "cpu")
    assert page.get_attribute('#range button[data-range="24h"]', "aria-pressed") == "true"
    assert int(day["resolution"]) > int(hour["resolution"])
    p.shot("dashboard-range-24h")
    page.click('#range button[data-range="30d"]')
    page.wait_for_function("() => document.querySelector('#chart-cpu').dataset.range === '30d'")
    page.wait_for_function(
        f"() => document.querySelector('#chart-cpu').dataset.resolution !== '{day['resolution']}'"
    )
    assert int(chart(page, "cpu")["points"]) >= 1
    assert p.errors == [], p.errors


def test_host_picker_and_a_host_without_data_in_range(
    seeded: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(seeded)
    page = p.page
    page.wait_for_selector("#host-picker:not([hidden])")
    options = page.eval_on_selector_all("#host-select option", "os => os.map(o => o.value)")
    assert set(options) == {LOCAL, OTHER}
    page.select_option("#host-select", OTHER)
    msg = page.locator("#chart-cpu .chart-msg")
    msg.wait_for(state="visible")
    assert f"no data for {OTHER} in the last hour" in msg.inner_text()
    assert chart(page, "cpu")["points"] == "0"
    assert page.locator("#chart-cpu canvas").count() == 1  # an empty chart, axes drawn, with a message
    p.shot("dashboard-host-without-recent-data")
    assert OTHER in page.text_content("#latest-at")
    page.click('#range button[data-range="7d"]')
    msg.wait_for(state="hidden")
    wait_points(page, "cpu", 3)  # 2 h of checks 3 days ago: a few 29-min buckets
    assert p.errors == [], p.errors


def test_wrong_token_is_retried_in_the_dialog_and_cancel_is_no_error(
    seeded: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(seeded)
    page = p.page
    page.wait_for_selector("#sampler-state[data-state=running]")
    assert page.get_attribute("#refreshed", "aria-live") is None  # the clock is not announced every refresh
    page.click("#sampler-stop")
    page.wait_for_selector("#token-dialog[open]")
    page.click("#token-cancel")  # Cancel: nothing happened, and that is no error
    page.wait_for_function("() => !document.getElementById('token-dialog').open")
    wait_ticks(page)
    assert page.locator("#notice").is_hidden()
    assert seeded.get("/api/v2/sampler").json()["running"] is True

    page.click("#sampler-stop")
    page.wait_for_selector("#token-dialog[open]")
    page.fill("#token-input", "not-the-token")
    page.click("#token-ok")
    error = page.locator("#token-error")
    error.wait_for(state="visible")  # asked again in the same dialog, saying why
    assert "refused (401)" in error.inner_text() and "Try again" in error.inner_text()
    assert page.locator("#token-dialog").evaluate("d => d.open")
    assert page.evaluate("sessionStorage.getItem('checkd-token')") is None  # a refused token is forgotten
    p.shot("dashboard-wrong-token")
    assert seeded.get("/api/v2/sampler").json()["running"] is True

    page.fill("#token-input", seeded.token)  # the right one, in the same dialog
    page.click("#token-ok")
    page.wait_for_selector("#sampler-state[data-state=stopped]")
    assert "The sampler is stopped" in page.inner_text("#sampler-note")
    p.shot("dashboard-sampler-stopped")
    assert seeded.get("/api/v2/sampler").json()["running"] is False

    page.click("#sampler-start")  # the token is kept for the session: no second prompt
    page.wait_for_selector("#sampler-state[data-state=running]")
    assert not page.locator("#token-dialog").evaluate("d => d.open")
    assert page.evaluate("sessionStorage.getItem('checkd-token')") == seeded.token
    entries = seeded.get("/api/v2/actions").json()
    assert [(e["service"], e["action"], e["actor"], e["ok"], e["state"]) for e in entries] == [
        ("sampler", "start", "dashboard", True, "running"),
        ("sampler", "stop", "dashboard", True, "stopped"),
    ]  # newest first; the 401 (a wrong token) names no one and is not recorded
    page.wait_for_selector(f'#actions-body tr[data-action="{entries[0]["id"]}"]')  # "Latest actions"
    row = page.inner_text(f'#actions-body tr[data-action="{entries[1]["id"]}"]')
    assert "sampler" in row and "stop" in row and "dashboard" in row and "stopped" in row, row
    assert p.errors == [], p.errors
