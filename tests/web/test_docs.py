"""Swagger UI at /docs renders with no network and "Try it out" on the cpu history routes returns data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from checkd_process import CheckdProcess

from .helpers import Page

pytestmark = pytest.mark.browser


def try_it_out(page: Any, path: str, fill: Callable[[Any], None] | None = None) -> tuple[str, Any]:
    """Open the GET operation for `path`, press Try it out and Execute; (status, parsed body)."""
    block = page.locator(".opblock.opblock-get").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    block.locator(".opblock-summary").first.click()
    block.locator("button.try-out__btn").click()
    if fill is not None:
        fill(block)
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    body = block.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    return status.inner_text().strip(), json.loads(body.inner_text())


def test_swagger_ui_offline_try_it_out_cpu_history(
    server: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 3)
    p = open_page(server, "/docs")
    page = p.page
    page.wait_for_selector(".swagger-ui .info .title")
    assert "checkd" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock")

    def choose_metric(block: Any) -> None:
        field = block.locator('tr[data-param-name="metric"]')
        if field.locator("select").count():
            field.locator("select").select_option("cpu_percent")
        else:
            field.locator("input").fill("cpu_percent")

    status, body = try_it_out(page, "/api/v2/history/{metric}", choose_metric)
    assert status == "200", body
    assert body["metric"] == "cpu_percent" and len(body["points"]) >= 1
    assert {"t", "min", "avg", "max"} <= set(body["points"][0])
    p.shot("docs-try-it-out-history")

    status, rows = try_it_out(page, "/v1.0/checks/cpu/history")
    assert status == "200", rows
    assert len(rows) >= 1 and {"taken_at", "cpu"} <= set(rows[0])
    p.shot("docs-try-it-out-v1-cpu-history")
    assert p.foreign_requests() == []  # everything came from checkd: it works offline
    assert p.errors == [], p.errors
