"""Problems first: the status line, the tab title and favicon, the connection watch, in chromium."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, minutes_ago, seed_checks, toy_config, wait_ticks

pytestmark = pytest.mark.browser


CPU_RULE = """
[[alerts.rules]]
name = "cpu-any"
metric = "cpu_percent"
above = 0
severity = "critical"
"""


def test_status_line_names_a_stopped_service_and_a_busy_cpu(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path, toy: Path
) -> None:
    # The rule's threshold (0 %) is what "busy" means here: the level comes from the config.
    server = make_server(args=("--config", str(toy_config(tmp_path, toy, CPU_RULE))))
    p = open_page(server)
    page = p.page
    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", server.token)
    page.wait_for_selector('#services-body tr[data-service="toy"][data-state="active"]')
    page.wait_for_function("() => document.getElementById('status-text').textContent.includes('cpu ')")
    text = page.inner_text("#status-text")
    assert "% > 0 %" in text and "toy" not in text, text  # cpu over the rule's level, the service is fine
    assert "alert cpu-any firing" in text, text

    page.click('#services-body tr[data-service="toy"] button[data-action="stop"]')
    page.wait_for_selector("#confirm-dialog[open]")
    assert page.inner_text("#confirm-text").startswith("Stop toy on ")
    page.click("#confirm-ok")
    page.wait_for_function(
        "() => document.getElementById('status-text').textContent.includes('toy inactive')"
    )
    text = page.inner_text("#status-text")
    assert "toy inactive since " in text and "(stopped by dashboard)" in text, text
    n = len(text.split(" · "))  # the predefined httpd may be inactive here too: it is named as well
    assert text.startswith(f"{n} problems: ") and n >= 3, text
    assert page.get_attribute("#status", "data-level") == "bad"
    assert page.title().startswith(f"({n}) checkd · ")
    assert page.get_attribute("#favicon", "data-level") == "bad"
    assert "image/svg" in (page.get_attribute("#favicon", "href") or "")
    p.shot("problems-service-stopped-cpu-busy")
    assert p.errors == [], p.errors


def test_a_calm_host_has_no_problems_and_a_plain_title(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    data = tmp_path / "calm"
    seed_checks(data, "calm", minutes_ago(30, start_min=0), cpu=lambda i: 20.0, services={"web": "active"})
    server = make_server(data, args=("--host-name", "busy-local"))
    p = open_page(server, "/?host=calm")  # the host comes from the address
    page = p.page
    page.wait_for_function("() => document.getElementById('status-text').textContent !== 'loading…'")
    wait_ticks(page)
    assert page.inner_text("#status-text") == "No problems"
    assert page.title() == "checkd · calm"
    assert page.get_attribute("#favicon", "data-level") == "ok"
    assert page.get_attribute("#status", "data-level") == "ok"
    # healthy panels take less room: no alerts is one line, all services up is a compact card
    assert "healthy" in (page.get_attribute("#alerts", "class") or "")
    assert page.eval_on_selector("#alerts", "e => e.getBoundingClientRect().height") < 50
    assert "healthy" in (page.get_attribute("#services", "class") or "")
    p.shot("problems-none")


def test_connection_lost_stops_the_clock_and_disables_the_controls(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path, toy: Path
) -> None:
    server = make_server(args=("--config", str(toy_config(tmp_path, toy))), interval=2)
    p = open_page(server)
    page = p.page
    page.wait_for_selector('#services-body tr[data-service="toy"] button[data-action="stop"]:enabled')
    wait_ticks(page)
    assert page.locator("#lost").is_hidden()
    server.stop(signal.SIGKILL)
    killed = time.monotonic()
    page.locator("#lost").wait_for(state="visible", timeout=2 * 2000 + 1000)  # 2 intervals (2 s) + slack
    assert time.monotonic() - killed < 5
    assert "connection lost" in page.inner_text("#lost-text")
    since = page.inner_text("#refreshed").removeprefix("updated ")
    assert since in page.inner_text("#lost-text")  # lost since the last answer
    assert page.locator("#chart-cpu .chart-msg").is_hidden()  # the charts keep what they drew
    assert page.is_disabled("#sampler-stop") and page.is_disabled("#sampler-start")
    buttons = page.locator("#services-body button")
    assert buttons.count() >= 3 and all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
    ranges = page.locator("#range button")  # a new range would only wipe the charts drawn
    assert ranges.count() == 4 and all(ranges.nth(i).is_disabled() for i in range(4))
    assert "connection lost" in page.inner_text("#status-text")
    assert page.get_attribute("#favicon", "data-level") == "lost"
    clock = page.inner_text("#refreshed")
    ticks = page.evaluate("document.body.dataset.ticks")
    time.sleep(5)  # more than a refresh period
    assert page.inner_text("#refreshed") == clock and page.evaluate("document.body.dataset.ticks") == ticks
    p.shot("connection-lost")

    server.start()  # same port and data: the page recovers by itself
    page.locator("#lost").wait_for(state="hidden", timeout=10_000)
    page.wait_for_selector('#services-body tr[data-service="toy"] button[data-action="stop"]:enabled')
    page.wait_for_selector("#sampler-stop:enabled")
    assert "connection lost" not in page.inner_text("#status-text")
    assert page.is_enabled('#range button[data-range="24h"]')


def test_an_error_carries_its_time_and_is_greyed_once_cleared(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    watched = tmp_path / "mnt"
    watched.mkdir()
    server = make_server(env={"CHECKD_SAMPLER__DISK_PATHS": f'["/", "{watched}"]'})
    p = open_page(server)
    page = p.page
    wait_ticks(page)
    assert page.locator("#sampler-error").is_hidden()
    watched.rmdir()  # the disk probe fails on every check from now on
    page.wait_for_selector("#sampler-error:not([hidden]):not(.cleared)")
    text = page.inner_text("#sampler-error")
    assert "first seen " in text and " ago" in text and str(watched) in text, text
    status = "document.getElementById('status-text').textContent"
    page.wait_for_function(f"() => {status}.includes('probe disk:{watched} failing since')")
    p.shot("sampler-error")
    watched.mkdir()  # the condition clears: the error stays readable, greyed
    page.wait_for_selector("#sampler-error.cleared")
    assert page.inner_text("#sampler-error").startswith("cleared · last error, first seen ")
    wait_ticks(page)
    assert "probe disk:" not in page.inner_text("#status-text")
    assert page.eval_on_selector("#sampler-error", "e => getComputedStyle(e).color") != page.eval_on_selector(
        "#alerts-count", "e => getComputedStyle(e).color"
    )
    p.shot("sampler-error-cleared")


def test_the_status_line_is_announced_when_its_problems_change_not_their_values(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    data = tmp_path / "quiet"
    # checks 10 s apart, the newest 35 s old: stale, and its age in seconds moves on every refresh
    seed_checks(data, "quiet", minutes_ago(60, start_min=0, step_s=10)[:-4], cpu=lambda i: 20.0, services={})
    server = make_server(data, args=("--host-name", "busy-local"))
    p = open_page(server, "/?host=quiet")
    page = p.page
    page.wait_for_function("() => document.getElementById('status-text').textContent.includes('stale')")
    live = """() => [...document.querySelectorAll('[role=status], [role=alert], [aria-live]')]
        .filter(e => e.getAttribute('aria-live') !== 'off' && !e.closest('[hidden]'))
        .map(e => e.id + ': ' + e.textContent.trim())"""
    shown, heard = set(), set()
    for _ in range(3):  # a refresh every 10 s (the host's interval): within 90 s the age is in seconds
        wait_ticks(page)
        shown.add(page.inner_text("#status-text"))
        heard.add(tuple(page.evaluate(live)))
    assert len(shown) > 1, shown  # the age moves on every refresh...
    assert len(heard) == 1, heard  # ...what a screen reader is told does not
    (announced,) = heard
    assert "status-live: 1 problem: newest check stale" in announced, announced
