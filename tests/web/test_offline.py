"""No request leaves checkd's origin on /, /docs or /redoc; the docs list v2 first and v1.0 last."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from checkd_process import CheckdProcess

from .conftest import CHROMIUM, CHROMIUM_ARGS
from .helpers import shot

pytestmark = pytest.mark.browser

V1_TAG = "v1.0 (compatibility)"
# A host name, not 127.0.0.1: Swagger UI shows its online validator badge (an image from
# validator.swagger.io) only for specs served from elsewhere than localhost / 127.0.0.1.
HOST = "checkd.test"


@pytest.fixture
def named_browser(browser: Any) -> Iterator[Any]:
    """Chromium resolving HOST to 127.0.0.1 (and nothing else changed)."""
    b = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
    )
    yield b
    b.close()


@pytest.fixture
def server(make_server: Callable[..., CheckdProcess]) -> CheckdProcess:
    """A server that accepts HOST in the Host header."""
    return make_server(env={"CHECKD_SERVER__ALLOWED_HOSTS": f'["{HOST}"]'})


@pytest.fixture
def visit(named_browser: Any, server: CheckdProcess) -> Iterator[Callable[[str, str], Any]]:
    """visit(path, ready): open `path`, wait for `ready` and for late requests (images mounted after
    the first render, workers); every request to another origin is aborted and, after the test,
    must not have been made."""
    ctx = named_browser.new_context(
        viewport={"width": 1280, "height": 1000}, base_url=f"http://{HOST}:{server.port}"
    )
    own = f"{HOST}:{server.port}"
    foreign: list[str] = []

    def gate(route: Any) -> None:
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).netloc == own:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    def open_path(path: str, ready: str) -> Any:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        page.route("**/*", gate)
        page.goto(path)
        page.wait_for_selector(ready)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        assert foreign == [], f"{path} made requests outside checkd"
        return page

    yield open_path
    ctx.close()


def test_dashboard_makes_no_request_outside_checkd(visit: Callable[[str, str], Any]) -> None:
    shot(visit("/", "main"), "offline-dashboard")


def test_swagger_ui_is_offline_and_lists_v2_before_v1(visit: Callable[[str, str], Any]) -> None:
    page = visit("/docs", ".swagger-ui .opblock-tag-section")
    tags = page.locator("h3.opblock-tag").evaluate_all("els => els.map(e => e.dataset.tag)")
    assert tags[0] == "checks", tags  # the v2 API comes first
    assert tags[-1] == V1_TAG, tags  # the v1.0 compatibility routes last, named as such
    assert "compatibility routes" in page.locator(f'h3[data-tag="{V1_TAG}"]').inner_text()
    shot(page, "offline-swagger-ui")


def test_redoc_is_offline_and_lists_v2_before_v1(visit: Callable[[str, str], Any]) -> None:
    page = visit("/redoc", 'li[data-item-id^="tag/"]')
    assert "checkd" in page.inner_text(".api-info h1")
    ids = page.locator('li[data-item-id^="tag/"]').evaluate_all(
        "els => els.map(e => e.dataset.itemId).filter(i => i.split('/').length === 2)"
    )
    assert ids[0] == "tag/checks", ids
    assert ids[-1].startswith("tag/v1.0"), ids
    assert "compatibility routes" in page.locator(f'[id="{ids[-1]}"]').first.inner_text()
    shot(page, "offline-redoc")
