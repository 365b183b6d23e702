"""Start and stop the real apache2 (the `httpd` service) through the dashboard's buttons."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, root_or_skip

pytestmark = [pytest.mark.browser, pytest.mark.root]


def _apache_stop() -> None:
    subprocess.run(["service", "apache2", "stop"], capture_output=True, timeout=60, check=False)


@pytest.fixture
def apache() -> Iterator[None]:
    """apache2 stopped before the test and again after it, whatever happened."""
    root_or_skip()
    _apache_stop()
    yield
    _apache_stop()


def test_start_and_stop_apache_through_the_buttons(
    apache: None, make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page]
) -> None:
    server = make_server()
    p = open_page(server)
    page = p.page
    row = '#services-body tr[data-service="httpd"]'
    page.wait_for_selector(f"{row} .state[data-state=inactive]")
    assert page.inner_text(f"{row} .state") == "inactive"

    page.click(f'{row} button[data-action="start"]')
    page.wait_for_selector("#token-dialog[open]")  # asked once for the token
    page.fill("#token-input", server.token)
    page.click("#token-ok")
    page.wait_for_selector(f"{row} .state[data-state=active]", timeout=60_000)
    assert page.inner_text(f"{row} .state") == "active"
    assert "httpd start: ok" in page.inner_text("#notice-text")
    colour = page.eval_on_selector(f"{row} .state", "e => getComputedStyle(e).color")
    assert colour == "rgb(21, 128, 61)", colour  # green for active
    assert server.get("/api/v2/services/httpd").json()["state"] == "active"
    p.shot("dashboard-apache-started")

    page.click(f'{row} button[data-action="stop"]')  # the token is remembered: no second prompt
    page.wait_for_selector("#confirm-dialog[open]")  # but stopping asks first
    page.click("#confirm-ok")
    page.wait_for_selector(f"{row} .state[data-state=inactive]", timeout=60_000)
    assert not page.locator("#token-dialog").evaluate("d => d.open")
    assert server.get("/api/v2/services/httpd").json()["state"] == "inactive"
    page.wait_for_function("() => document.querySelectorAll('#actions-body tr').length >= 2")
    log = page.inner_text("#actions-body")
    assert "httpd" in log and "dashboard" in log and "start" in log and "stop" in log
    p.shot("dashboard-apache-stopped")
    assert p.errors == [], p.errors
