"""Service rows as incident cards: since when, an up/down bar, confirmation, a failed action's output."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, minutes_ago, seed_checks, toy_config, wait_ticks

pytestmark = pytest.mark.browser

FAILING = """
[services.bad]
backend = "command"
start = ["/bin/sh", "-c", "echo 'cannot bind 0.0.0.0:80: address already in use'; exit 1"]
stop = ["/bin/true"]
status = ["/bin/sh", "-c", "exit 3"]
timeout = 5
"""


@pytest.fixture
def cards(make_server: Callable[..., CheckdProcess], tmp_path: Path, toy: Path) -> CheckdProcess:
    """A checkd with `toy` (running) and `bad` (its start fails, saying why)."""
    return make_server(args=("--config", str(toy_config(tmp_path, toy, FAILING))))


def row(page: object, name: str) -> str:
    """The selector of service `name`'s row."""
    return f'#services-body tr[data-service="{name}"]'


def test_stop_asks_first_and_the_row_shows_since_when_and_its_up_down_bar(
    cards: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(cards)
    page = p.page
    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", cards.token)
    toy = row(page, "toy")
    page.wait_for_selector(f"{toy}[data-state=active] .updown i")
    assert page.inner_text(f"{toy} .avail") == "100.0 %"
    page.click(f'{toy} button[data-action="stop"]')
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-cancel")  # cancelled: nothing runs, nothing is audited
    wait_ticks(page)
    assert page.get_attribute(toy, "data-state") == "active"
    assert cards.get("/api/v2/actions").json() == []

    page.click(f'{toy} button[data-action="stop"]')
    page.click("#confirm-ok")
    page.wait_for_selector(f"{toy}[data-state=inactive]")
    since = page.inner_text(f"{toy} .since")
    assert since.startswith("since ") and since.endswith("(stopped by dashboard)"), since
    page.wait_for_function(f"() => document.querySelector('{toy} .avail').textContent !== '100.0 %'")
    bar = page.eval_on_selector_all(f"{toy} .updown i", "is => is.map(i => i.className)")
    assert bar[-1] in ("down", "part"), bar  # the newest bucket holds the stop
    assert page.get_attribute(f"{toy} .updown", "aria-label").endswith("% available")
    entries = cards.get("/api/v2/actions").json()
    assert [(e["service"], e["action"], e["actor"]) for e in entries] == [("toy", "stop", "dashboard")]
    p.shot("service-card-stopped")
    assert p.errors == [], p.errors


def test_a_failed_action_shows_the_command_output_in_its_row(
    cards: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(cards)
    page = p.page
    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", cards.token)
    bad = row(page, "bad")
    page.wait_for_selector(f"{bad}[data-state=inactive]")
    page.click(f'{bad} button[data-action="start"]')  # start asks nothing
    output = page.locator('#services-body tr[data-output-of="bad"]')
    output.wait_for(state="visible")
    assert "cannot bind 0.0.0.0:80: address already in use" in output.locator("pre.output").inner_text()
    assert "bad start failed at " in output.inner_text()
    wait_ticks(page, 2)  # it stays through refreshes
    assert output.is_visible()
    p.shot("service-card-failed-output")


def test_a_failed_action_carries_its_time_and_is_greyed_once_the_service_is_where_it_was_meant_to_be(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    up = tmp_path / "late-up"  # the service is active while this file exists
    config = tmp_path / "checkd.toml"
    config.write_text(f"""
[services.late]
backend = "command"
start = ["/bin/sh", "-c", "echo 'port 8443 busy'; exit 1"]
stop = ["/bin/true"]
status = ["/bin/sh", "-c", "test -e {up} || exit 3"]
timeout = 5
""")
    server = make_server(args=("--config", str(config)))
    p = open_page(server)
    page = p.page
    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", server.token)
    late = row(page, "late")
    page.wait_for_selector(f"{late}[data-state=inactive]")
    page.click(f'{late} button[data-action="start"]')
    output = page.locator('#services-body tr[data-output-of="late"]')
    output.wait_for(state="visible")
    notice = page.inner_text("#notice-text")
    assert re.match(r"\d\d:\d\d:\d\d · late start: failed \(502\)", notice), notice  # the banner has its time
    red = output.locator("p").evaluate("e => getComputedStyle(e).color")
    assert not output.inner_text().startswith("cleared")
    p.shot("service-card-failed-not-cleared")

    up.touch()  # started another way: the failure's condition has cleared
    page.wait_for_selector(f"{late}[data-state=active]")
    page.wait_for_selector('#services-body tr.output-row.cleared[data-output-of="late"]')
    assert output.inner_text().startswith("cleared · late start failed at "), output.inner_text()
    assert "port 8443 busy" in output.inner_text()  # still readable
    assert output.locator("p").evaluate("e => getComputedStyle(e).color") != red  # greyed
    p.shot("service-card-failed-cleared")


def test_a_state_changed_within_the_newest_bar_still_says_since_when(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    # The hour's availability buckets are 2 min wide and start on a minute boundary (which of two
    # depends on when the page asks): a check just after each of the last two minute boundaries is down,
    # the newest is up, so whichever bucket holds the newest also holds a down one.
    if time.time() % 60 < 3:
        time.sleep(3)
    now = time.time()
    minute = now - now % 60
    data = tmp_path / "changed"
    earlier = [t for t in minutes_ago(360, start_min=0, step_s=10) if t < minute - 60]
    down = [*earlier, minute - 59.5, minute + 0.5]
    seed_checks(data, "changed", down, cpu=lambda i: 20.0, services={"web": "inactive"})
    seed_checks(data, "changed", [now - 0.5], cpu=lambda i: 20.0, services={"web": "active"})
    server = make_server(data, args=("--host-name", "busy-local"))
    p = open_page(server, "/?host=changed")
    page = p.page
    web = row(page, "web")
    page.wait_for_selector(f"{web}[data-state=active] .updown i")
    bar = page.eval_on_selector_all(f"{web} .updown i", "is => is.map(i => i.className)")
    assert bar[-1] == "part", bar
    since = page.inner_text(f"{web} .since")
    assert re.fullmatch(r"since about \d\d:\d\d:\d\d", since), since
    p.shot("service-card-changed-in-newest-bucket")
