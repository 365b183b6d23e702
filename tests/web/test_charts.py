"""Charts a person reads: units, shared cursor, zoom, level lines, action and sampler markers, new
points only."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from checkd_process import CheckdProcess

from .helpers import (
    CHARTS_CONFIG,
    CHARTS_HOST,
    Page,
    minutes_ago,
    seed_checks,
    seed_sampler_audit,
    wait_ticks,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def charted(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    data = tmp_path / "charts"
    seed_checks(data, CHARTS_HOST, minutes_ago(120, start_min=1), cpu=lambda i: 10.0 + (i * 7) % 76)
    config = tmp_path / "checkd.toml"
    config.write_text(CHARTS_CONFIG)
    return make_server(data, args=("--host-name", CHARTS_HOST, "--config", str(config)))


def box(page: Any, name: str) -> dict[str, float]:
    """The bounding box of chart `name`'s plotting area, once the page's layout has settled (the
    per-device charts are sized when their first points arrive, which can move the others)."""
    result: dict[str, float] = page.locator(f"#chart-{name} .u-over").bounding_box()
    for _ in range(40):
        page.wait_for_timeout(250)
        again: dict[str, float] = page.locator(f"#chart-{name} .u-over").bounding_box()
        if again == result:
            break
        result = again
    return result


def wait_points(page: Any, name: str) -> None:
    """Wait until chart `name` has drawn more than 60 points (the seeded hour)."""
    page.wait_for_function(
        f"() => Number(document.querySelector('#chart-{name}').dataset.points || 0) > 60", timeout=60_000
    )


def legend(page: Any, name: str) -> list[str]:
    """The legend's values of chart `name`."""
    values: list[str] = page.eval_on_selector_all(
        f"#chart-{name} .u-legend .u-value", "vs => vs.map(v => v.textContent)"
    )
    return values


def test_hover_units_shared_cursor_zoom_levels_and_text(
    charted: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(charted)
    page = p.page
    wait_points(page, "cpu")
    wait_points(page, "mem")
    b = box(page, "cpu")
    page.mouse.move(b["x"] + b["width"] * 0.5, b["y"] + b["height"] * 0.5)
    cpu = legend(page, "cpu")
    # the time in the page's one format, the day in front when it is not today (just after midnight)
    assert re.fullmatch(r"(\d{1,2} [A-Z][a-z]{2} )?\d\d:\d\d:\d\d", cpu[0]), cpu
    assert all(re.fullmatch(r"\d+\.\d %", v) for v in cpu[1:]), cpu  # unit and one decimal
    mem = legend(page, "mem")
    assert mem[0] == cpu[0] and re.fullmatch(r"\d+\.\d %", mem[1]), mem  # the same instant on the other chart

    assert page.get_attribute("#chart-cpu", "data-levels") == "60,60"  # from the rule, critical at 60
    assert page.get_attribute("#chart-mem", "data-levels") == "75,90"  # the documented defaults
    text = page.inner_text("#chart-cpu .chart-text")
    assert re.match(r"cpu % over the last hour: newest \d+\.\d % at \d\d:\d\d:\d\d, ", text), text
    assert "highest " in text, text
    assert page.inner_text("#chart-disk figcaption") == "disk % (/)"
    assert page.get_attribute("#chart-cpu", "data-band") == "min-max"

    b = box(page, "cpu")
    page.mouse.move(b["x"] + b["width"] * 0.3, b["y"] + 20)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * 0.6, b["y"] + 20, steps=5)
    page.mouse.up()
    page.wait_for_selector('#history[data-zoomed="true"]')
    shown = page.evaluate("() => [...document.querySelectorAll('.chart')].map(f => Number(f.dataset.shown))")
    assert len(set(shown)) == 1 and 600 < shown[0] < 1800, shown  # about 30 % of the hour, on every chart
    assert page.locator("#zoom-reset").is_visible()
    p.shot("charts-zoomed")
    page.click("#zoom-reset")
    page.wait_for_selector('#history[data-zoomed="false"]')
    shown = page.evaluate("() => [...document.querySelectorAll('.chart')].map(f => Number(f.dataset.shown))")
    assert all(3590 <= s <= 3610 for s in shown), shown

    page.click('#range button[data-range="7d"]')
    page.wait_for_selector('#chart-cpu[data-band="light"]')
    assert p.errors == [], p.errors


def touch_drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A one-finger drag from `start` to `end` (viewport px), as the phone's touchscreen sends it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]}
    )
    for i in range(1, 9):
        x = start[0] + (end[0] - start[0]) * i / 8
        y = start[1] + (end[1] - start[1]) * i / 8
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        page.wait_for_timeout(30)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_sideways_touch_drag_zooms_and_an_upright_one_scrolls(
    charted: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(charted, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = p.page
    wait_points(page, "cpu")
    page.locator("#chart-cpu").scroll_into_view_if_needed()
    b = box(page, "cpu")
    y = b["y"] + b["height"] / 2
    scrolled = page.evaluate("() => window.scrollY")
    touch_drag(page, (b["x"] + b["width"] * 0.5, y), (b["x"] + b["width"] * 0.55, y - 300))
    page.wait_for_function(f"() => window.scrollY > {scrolled + 100}")  # upright: the page scrolled...
    assert page.get_attribute("#history", "data-zoomed") == "false"  # ...and nothing zoomed

    page.locator("#chart-cpu").scroll_into_view_if_needed()
    b = box(page, "cpu")
    y = b["y"] + b["height"] / 2
    touch_drag(page, (b["x"] + b["width"] * 0.3, y), (b["x"] + b["width"] * 0.6, y))
    page.wait_for_selector('#history[data-zoomed="true"]')
    shown = page.evaluate("() => [...document.querySelectorAll('.chart')].map(f => Number(f.dataset.shown))")
    assert len(set(shown)) == 1 and 600 < shown[0] < 1800, shown  # about 30 % of the hour, on every chart
    p.shot("charts-zoomed-by-touch")
    page.tap("#zoom-reset")
    page.wait_for_selector('#history[data-zoomed="false"]')
    assert p.errors == [], p.errors


def test_action_markers_link_to_their_audit_rows(
    charted: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    r = charted.post("/api/v2/services/locked/restart", headers=charted.auth())
    assert r.status_code == 403
    entry = charted.get("/api/v2/actions").json()[0]
    p = open_page(charted)
    page = p.page
    marker = page.locator(f'#chart-cpu a.marker[href="#action-{entry["id"]}"]')
    marker.wait_for(state="attached")
    assert "locked restart by " in (marker.get_attribute("title") or "")
    assert page.locator(f"#action-{entry['id']}").count() == 1
    p.shot("charts-action-marker")


def test_sampler_stops_and_starts_are_marked_at_their_time_and_link_to_their_audit_rows(
    make_server: Callable[..., CheckdProcess], tmp_path: Path, open_page: Callable[..., Page]
) -> None:
    data = tmp_path / "charts"
    seed_checks(data, CHARTS_HOST, minutes_ago(120, start_min=1), cpu=lambda i: 10.0 + (i * 7) % 76)
    now = time.time()
    changes = [(now - 40 * 60, "ops", "stop"), (now - 25 * 60, "ops", "start")]
    stop_id, start_id = seed_sampler_audit(data, CHARTS_HOST, changes)
    config = tmp_path / "checkd.toml"
    config.write_text(CHARTS_CONFIG)
    server = make_server(data, args=("--host-name", CHARTS_HOST, "--config", str(config)))
    assert server.post("/api/v2/sampler/stop", headers=server.auth()).status_code == 200
    live_stop = server.get("/api/v2/actions").json()[0]
    assert (live_stop["service"], live_stop["action"]) == ("sampler", "stop")

    p = open_page(server)
    page = p.page
    page.wait_for_function(  # the seeded hour (the sampler is stopped)
        "() => Number(document.querySelector('#chart-cpu').dataset.points || 0) >= 55", timeout=60_000
    )
    live = page.locator(f'#chart-cpu a.marker-sampler[href="#action-{live_stop["id"]}"]')
    live.wait_for(timeout=30_000)  # the actions are read with the slow panels
    area = box(page, "cpu")
    shown = float(page.get_attribute("#chart-cpu", "data-shown") or 0)
    assert 3590 <= shown <= 3610

    def where(locator: Any) -> float:
        """The horizontal middle of `locator`, as a fraction of the plotting area (0 = left edge)."""
        b = locator.bounding_box()
        return float((b["x"] + b["width"] / 2 - area["x"]) / area["width"])

    stop = page.locator(f'#chart-cpu a.marker-sampler[href="#action-{stop_id}"]')
    start = page.locator(f'#chart-cpu a.marker-sampler[href="#action-{start_id}"]')
    assert stop.is_visible() and start.is_visible() and live.is_visible()
    assert "sampler stopped by ops" in (stop.get_attribute("title") or "")
    assert "sampler started by ops" in (start.get_attribute("title") or "")
    assert "sampler stopped by api" in (live.get_attribute("title") or "")
    # At their times on the hour shown: 40 and 25 minutes ago, and now (within a minute of the hour).
    assert abs(where(stop) - 20 / 60) < 1 / 60, where(stop)
    assert abs(where(start) - 35 / 60) < 1 / 60, where(start)
    assert where(live) > 59 / 60, where(live)
    # The time it was stopped is hatched: from the stop to the start, and from the live stop on.
    spans = page.locator("#chart-cpu .sampler-off")
    assert spans.count() == 2
    first = spans.nth(0).bounding_box()
    assert abs(first["x"] - (area["x"] + where(stop) * area["width"])) < 3
    assert abs(first["x"] + first["width"] - (area["x"] + where(start) * area["width"])) < 3
    assert (spans.nth(1).get_attribute("title") or "").endswith(" now")  # still stopped
    assert page.locator("#chart-mem a.marker-sampler").count() == 3  # on every chart
    p.shot("charts-sampler-markers")

    stop.click()  # leads to its row in "Latest actions"
    assert urlparse(page.url).fragment == f"action-{stop_id}"
    row = page.locator(f"#action-{stop_id}")
    assert row.evaluate("r => r.matches(':target')")
    assert row.is_visible() and row.bounding_box()["y"] < page.viewport_size["height"]
    assert row.bounding_box()["y"] >= 0
    cells = row.locator("td").all_inner_texts()
    assert cells[1:5] == ["ops", "sampler", "stop", "ok"], cells
    p.shot("charts-sampler-marker-followed")
    assert p.errors == [], p.errors


def test_refresh_reads_only_new_points_and_pauses_while_hidden(
    charted: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(charted)
    page = p.page
    wait_points(page, "cpu")

    def reads() -> list[dict[str, list[str]]]:
        return [parse_qs(urlparse(u).query) for u in p.requests if "/api/v2/history/cpu_percent" in u]

    assert len(reads()) == 1 and int(reads()[0]["points"][0]) >= 100  # the whole hour once
    # Between history reads the charts grow from the newest check, which every refresh reads anyway.
    first = page.eval_on_selector("#chart-cpu", "f => f.dataset.newest")
    page.wait_for_function(
        f"() => document.querySelector('#chart-cpu').dataset.newest > '{first}'", timeout=30_000
    )
    assert len(reads()) == 1, reads()
    assert any("/api/v2/checks/latest" in u for u in p.requests)
    page.evaluate(
        "() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    time.sleep(0.5)
    before = len(p.requests)
    time.sleep(6)  # more than a refresh period
    assert len(p.requests) == before, p.requests[before:]  # a hidden tab reads nothing
    page.evaluate(
        "() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    wait_ticks(page)
    assert len(p.requests) > before
    seen = reads()  # shown again: a refresh of everything, the charts from their newest bucket on
    assert len(seen) == 2, seen
    assert int(seen[1]["points"][0]) <= 10, seen[1]
