"""The dashboard's alerts panel in chromium against a real checkd: firing first, colour and word, and
the silence button going through the token."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from checkd_process import CheckdProcess

from .helpers import Page

pytestmark = pytest.mark.browser


def _config(tmp_path: Path) -> Path:
    """Two watched services with no live pidfile: both rules fire at the first check."""
    text = ""
    for name in ("b", "a"):  # b's alert is older, so newest-first alone would list a first
        text += (
            f'[services.{name}]\nbackend = "command"\ncontrol = false\npidfile = "{tmp_path / name}.pid"\n'
        )
    for name in ("b", "a"):
        text += f'[[alerts.rules]]\nname = "{name}-down"\nservice = "{name}"\nseverity = "critical"\n'
    path = tmp_path / "checkd.toml"
    path.write_text(text)
    return path


def test_alerts_panel_firing_first_and_silence(
    tmp_path: Path, make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page]
) -> None:
    server = make_server(args=("--config", str(_config(tmp_path))))
    server.wait_for(lambda: len(server.get("/api/v2/alerts?state=firing").json()["items"]) == 2)
    (tmp_path / "a.pid").write_text(f"{os.getpid()}\n")  # a is active again: its alert resolves
    server.wait_for(lambda: server.get("/api/v2/alerts?state=resolved").json()["items"])
    ids = {a["rule"]: a["id"] for a in server.get("/api/v2/alerts").json()["items"]}
    assert ids["a-down"] > ids["b-down"]

    p = open_page(server)
    page = p.page
    page.wait_for_selector("#alerts-body tr[data-state=resolved]")
    rows = page.locator("#alerts-body tr")
    assert [rows.nth(i).get_attribute("data-state") for i in range(rows.count())] == ["firing", "resolved"]
    first = "#alerts-body tr:first-child"
    assert page.inner_text(f"{first} .state") == "firing" and "b-down" in page.inner_text(first)
    assert page.inner_text("#alerts-count") == "1 firing"
    colour = page.eval_on_selector(f"{first} .state", "e => getComputedStyle(e).color")
    assert colour == "rgb(185, 28, 28)", colour  # red for firing
    resolved = page.eval_on_selector("#alerts-body tr:last-child .state", "e => getComputedStyle(e).color")
    assert resolved == "rgb(21, 128, 61)", resolved  # green for resolved
    assert page.is_disabled("#alerts-body tr:last-child button[data-silence]")
    p.shot("dashboard-alerts")

    page.click(f"{first} button[data-silence]")
    page.wait_for_selector("#token-dialog[open]")
    page.fill("#token-input", server.token)
    page.click("#token-ok")
    page.wait_for_function(
        "() => document.querySelector('#notice-text').textContent.includes('silenced until')"
    )
    assert "b-down: silenced until" in page.inner_text("#notice-text")
    page.wait_for_selector(f"{first} button[data-silence]:disabled")
    assert page.inner_text(f"{first} button[data-silence]") == "silenced"
    silenced = server.get("/api/v2/alerts?state=firing").json()["items"][0]
    assert silenced["rule"] == "b-down" and silenced["silenced_until"] is not None
    assert p.errors == [], p.errors
