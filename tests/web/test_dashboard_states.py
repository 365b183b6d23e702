"""Empty states and readable control errors, in chromium against a real checkd."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from checkd_process import BROKEN_SERVICE_CONFIG, CheckdProcess

from .helpers import Page

pytestmark = pytest.mark.browser

SERVICES = (
    BROKEN_SERVICE_CONFIG
    + """
[services.slow]
backend = "command"
start = ["/bin/sleep", "30"]
stop = ["/bin/true"]
status = ["/bin/sh", "-c", "exit 3"]
timeout = 3

[services.locked]
backend = "command"
control = false
status = ["/bin/true"]
"""
)


def test_empty_database_and_stopped_sampler(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page]
) -> None:
    server = make_server(env={"CHECKD_SAMPLER__AUTOSTART": "false"}, args=("--host-name", "empty-host"))
    p = open_page(server)
    page = p.page
    empty = page.locator("#latest-empty")
    empty.wait_for(state="visible")
    assert empty.inner_text() == "no checks yet"
    page.wait_for_selector("#sampler-state[data-state=stopped]")
    assert "The sampler is stopped" in page.inner_text("#sampler-note")
    assert page.is_disabled("#sampler-stop") and page.is_enabled("#sampler-start")
    msg = page.locator("#chart-cpu .chart-msg")
    msg.wait_for(state="visible")
    assert "no data for empty-host in the last hour" in msg.inner_text()
    assert page.locator("#notice").is_hidden()  # empty is not an error
    assert page.locator("#host-picker").is_hidden()  # one host: no picker
    p.shot("dashboard-empty-database")

    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", server.token)
    page.click("#sampler-start")
    page.wait_for_selector("#sampler-state[data-state=running]")
    empty.wait_for(state="hidden")
    page.wait_for_selector("#latest-body:not([hidden])")
    assert p.errors == [], p.errors


def test_control_errors_are_readable(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    config = tmp_path / "checkd.toml"
    config.write_text(SERVICES)
    server = make_server(args=("--config", str(config)))
    p = open_page(server)
    page = p.page
    page.wait_for_selector('#services-body tr[data-service="locked"]')
    locked = page.locator('#services-body tr[data-service="locked"] button')
    assert locked.count() == 3
    assert all(locked.nth(i).is_disabled() for i in range(3))  # control = false: no buttons to press
    assert "control = false" in (locked.first.get_attribute("title") or "")
    row = page.locator('#services-body tr[data-service="locked"]')
    assert row.locator("code.unit").count() == 0 and "null" not in row.inner_text()  # commands: no unit
    page.evaluate("t => sessionStorage.setItem('checkd-token', t)", server.token)
    notice = page.locator("#notice-text")

    page.click('#services-body button[data-service="broken"][data-action="start"]')
    page.wait_for_function(
        "() => document.querySelector('#notice-text').textContent.includes('broken start')"
    )
    assert "failed (502)" in notice.inner_text(), notice.inner_text()
    p.shot("dashboard-action-502")

    # An action already running on `slow` (started through the API): the button gets a 409.
    status: dict[str, int] = {}

    def run_slow() -> None:
        with httpx.Client(base_url=server.url(""), timeout=30, trust_env=False) as c:
            status["api"] = c.post("/api/v2/services/slow/start", headers=server.auth()).status_code

    worker = threading.Thread(target=run_slow)
    worker.start()
    try:
        time.sleep(0.5)  # the API call takes the service's action lock and holds it for 3 s
        page.click('#services-body button[data-service="slow"][data-action="start"]')
        page.wait_for_function(
            "() => document.querySelector('#notice-text').textContent.includes('slow start')"
        )
        assert "busy (409)" in notice.inner_text(), notice.inner_text()
        p.shot("dashboard-action-409")
    finally:
        worker.join(30)
    assert status.get("api") == 504

    page.click('#services-body button[data-service="slow"][data-action="start"]')
    page.wait_for_selector('#services-body tr[data-service="slow"].busy')
    page.wait_for_function(
        "() => document.querySelector('#notice-text').textContent.includes('timed out (504)')", timeout=20_000
    )
    p.shot("dashboard-action-504")
    page.wait_for_selector("#actions-body tr")
    assert "dashboard" in page.inner_text("#actions-body")  # the audit log names the dashboard as actor
    assert p.errors == [], p.errors


def test_protected_reads_ask_for_the_token_once(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page]
) -> None:
    server = make_server(env={"CHECKD_AUTH__PROTECT_READS": "true"})
    p = open_page(server)
    page = p.page
    page.wait_for_selector("#token-dialog[open]")
    assert "protect_reads" in page.inner_text("#notice-text")
    p.shot("dashboard-token-asked")
    page.fill("#token-input", server.token)
    page.click("#token-ok")
    page.wait_for_selector("#latest-body:not([hidden])")
    page.wait_for_selector("#sampler-state[data-state=running]")
    assert page.locator("#notice").is_hidden()
    p.errors = [e for e in p.errors if "401" not in e]  # the first reads were refused, as they should be
    assert p.errors == [], p.errors
