"""Layout and wording: phone and desktop widths, grouped numbers, overlays, dark mode, local times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, minutes_ago, seed_checks, wait_ticks

pytestmark = pytest.mark.browser

LOCAL = "layout-local-host"
OTHER = "layout-other-host-with-a-long-name"


@pytest.fixture
def seeded(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    """1,200 checks of another host (so the picker shows) and this checkd sampling every second."""
    data = tmp_path / "layout"
    seed_checks(data, OTHER, minutes_ago(1200, start_min=2), cpu=lambda i: 26.3)
    return make_server(data, args=("--host-name", LOCAL))


def no_sideways_scroll(page: object) -> None:
    """The page is no wider than the viewport, and neither is the header."""
    widths = page.evaluate(  # type: ignore[attr-defined]
        """() => ({doc: document.documentElement.scrollWidth, view: window.innerWidth,
                   bar: document.querySelector('.bar').scrollWidth,
                   barBox: document.querySelector('.bar').clientWidth})"""
    )
    assert widths["doc"] <= widths["view"], widths
    assert widths["bar"] <= widths["barBox"], widths


def test_phone_width_has_no_sideways_scroll(seeded: CheckdProcess, open_page: Callable[..., Page]) -> None:
    p = open_page(seeded, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = p.page
    page.wait_for_selector("#host-picker:not([hidden])")
    page.wait_for_selector('#services-body tr[data-service="httpd"] .state')
    page.wait_for_function("() => Number(document.querySelector('#chart-cpu').dataset.points || 0) > 0")
    no_sideways_scroll(page)
    page.select_option("#host-select", OTHER)
    page.wait_for_function(f"() => document.querySelector('#chart-cpu').dataset.host === '{OTHER}'")
    no_sideways_scroll(page)
    p.shot("layout-390px")
    assert p.errors == [], p.errors


def test_desktop_width_keeps_values_on_one_line(
    seeded: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(seeded, viewport={"width": 1400, "height": 1000})
    page = p.page
    page.wait_for_selector("#latest-body:not([hidden])")
    page.wait_for_selector('#services-body tr[data-service="httpd"] .state')
    wrapped = page.eval_on_selector_all(
        ".tile .v, #disks td.num, #services-body .avail",
        "es => es.filter(e => e.getClientRects().length > 1 || e.getBoundingClientRect().height > "
        "1.6 * parseFloat(getComputedStyle(e).lineHeight || getComputedStyle(e).fontSize))"
        ".map(e => e.textContent)",
    )
    assert wrapped == [], wrapped
    for card in ("#services", "#latest"):
        inside = page.evaluate(
            f"() => {{ const c = document.querySelector('{card}').getBoundingClientRect();"
            f" const t = document.querySelector('{card} table').getBoundingClientRect();"
            " return t.left >= c.left && t.right <= c.right; }"
        )
        assert inside, card
    no_sideways_scroll(page)
    p.shot("layout-1400px")


def test_numbers_words_links_and_overlaying_banners(
    seeded: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(seeded)
    page = p.page
    page.wait_for_selector("#host-picker:not([hidden])")
    assert f"{OTHER} · 1,200 checks" in page.inner_text("#host-select")
    words = page.evaluate(
        "async () => { const f = await import(document.querySelector('link[href$=\"/format.js\"]').href);"
        " return [f.count(1, 'error'), f.count(2, 'error'), f.count(2592002, 'check')]; }"
    )
    assert words == ["1 error", "2 errors", "2,592,002 checks"]
    assert page.get_attribute(".links a[href='/docs']", "href") == "/docs"
    assert page.get_attribute(".links a[href='/metrics']", "href") == "/metrics"
    wait_ticks(page)
    top = page.eval_on_selector("#latest", "e => e.getBoundingClientRect().top")
    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", seeded.token)
    page.click("#sampler-stop")
    page.locator("#notice").wait_for(state="visible")
    assert (
        page.eval_on_selector("#latest", "e => e.getBoundingClientRect().top") == top
    )  # laid over, not pushed
    p.shot("layout-notice-overlay")


def test_dark_mode_follows_the_system(seeded: CheckdProcess, open_page: Callable[..., Page]) -> None:
    p = open_page(seeded, color_scheme="dark")
    page = p.page
    page.wait_for_selector("#latest-body:not([hidden])")
    rgb = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    r, g, b = (int(x) for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    assert r + g + b < 200, rgb
    p.shot("layout-dark")


def test_times_are_local_with_the_zone_named(seeded: CheckdProcess, open_page: Callable[..., Page]) -> None:
    p = open_page(seeded, timezone_id="Asia/Tokyo")
    page = p.page
    page.wait_for_selector("#latest-body:not([hidden])")
    assert page.inner_text("#zone") == "times in Asia/Tokyo (UTC+09:00)"
    latest = seeded.get("/api/v2/checks/latest").json()
    shown = page.inner_text("#latest-at")
    taken = datetime.fromisoformat(latest["taken_at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo("Asia/Tokyo")
    )
    assert " s ago · " in shown and shown.split(" · ")[1][:5] == taken.strftime("%H:%M"), shown
    texts = [page.inner_text(s) for s in ("#sampler-note", "#refreshed")]
    assert all("AM" not in t and "PM" not in t and "/" not in t.split(" · ")[0] for t in texts), texts
    p.shot("layout-times-asia-tokyo")
