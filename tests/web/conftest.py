"""Browser fixtures: Debian's chromium through Playwright, a fresh profile, screenshots kept in
build/screenshots/ (or $CHECKD_SCREENSHOTS), a failing test's pages too."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checkd_process import CheckdProcess

from .helpers import SHOTS, Page, shot

CHROMIUM = os.environ.get("CHECKD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _why_no_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (make system-deps installs Debian's chromium as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless chromium with a fresh temporary profile; skips (saying why) when it cannot run."""
    why = _why_no_browser()
    if why:
        print(f"skipping browser tests: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember whether the test itself failed, for the fixtures' teardown (pytest's documented recipe)."""
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def open_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Factory: a new context (fresh storage) and page on `server`'s `path`; other origins are blocked.
    When the test fails, each page it opened is kept as a screenshot named after the test."""
    contexts: list[Any] = []
    pages: list[Page] = []

    def make(server: CheckdProcess, path: str = "/", **kw: Any) -> Page:
        kw.setdefault("viewport", {"width": 1280, "height": 1000})
        ctx = browser.new_context(**kw)
        contexts.append(ctx)
        base = server.url("")
        ctx.route(
            "**/*",
            lambda route: route.continue_() if route.request.url.startswith(base) else route.abort(),
        )
        page = Page(ctx.new_page(), server)
        page.page.set_default_timeout(20_000)
        pages.append(page)
        page.page.goto(server.url(path))
        return page

    yield make
    if request.node.stash.get(_FAILED, False):
        for i, page in enumerate(pages):
            try:
                shot(page.page, f"failed-{request.node.name}-{i}")
            except Exception as exc:  # a page that crashed: the failure itself is what matters
                print(f"no screenshot of page {i}: {exc}")
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session", autouse=True)
def _announce_screenshots() -> Iterator[None]:
    yield
    if SHOTS.exists() and any(SHOTS.iterdir()):
        print(f"\nweb test screenshots: {SHOTS}")


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[Path]:
    """A running daemon (sleep) and its pidfile, for a command-backed service the dashboard stops."""
    proc = subprocess.Popen(["sleep", "600"])
    pidfile = tmp_path / "toy.pid"
    pidfile.write_text(f"{proc.pid}\n")
    yield pidfile
    proc.kill()
    proc.wait()
