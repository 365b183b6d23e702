"""Page weight of / with every asset and the time to the first drawn chart (recorded in PERFORMANCE.md)."""

from __future__ import annotations

import gzip
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkd_process import CheckdProcess

from .helpers import minutes_ago, seed_checks

pytestmark = pytest.mark.browser

LOADS = 5
STATIC_BUDGET = 150_000  # bytes on the wire for HTML + CSS + JS (uncompressed)
FIRST_CHART_BUDGET_MS = 3000


@pytest.fixture
def context(browser: Any) -> Iterator[Callable[[], Any]]:
    """Factory for fresh contexts (empty cache and storage), closed at teardown."""
    made: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def one_load(ctx: Any, url: str) -> tuple[dict[str, int], float, list[str]]:
    """Bytes transferred by kind (static, api) until the first chart is drawn, and that time in ms."""
    page = ctx.new_page()
    finished: list[Any] = []

    def done(request: Any) -> None:
        finished.append(request)

    page.on("requestfinished", done)
    page.goto(url)
    page.wait_for_function("() => window.checkdFirstChartMs !== undefined", timeout=30_000)
    ms = float(page.evaluate("window.checkdFirstChartMs"))
    weights = {"static": 0, "api": 0, "requests": 0}
    static_urls: list[str] = []
    for req in finished:
        sizes = req.sizes()
        size = int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"])
        kind = "api" if "/api/" in req.url or req.url.endswith("/healthz") else "static"
        weights[kind] += size
        if kind == "static":
            static_urls.append(req.url)
        weights["requests"] += 1
    page.close()
    return weights, ms, static_urls


def test_page_weight_and_time_to_first_chart(
    make_server: Callable[..., CheckdProcess], context: Callable[[], Any], tmp_path: Path
) -> None:
    data = tmp_path / "weight"
    seed_checks(data, "weight-host", minutes_ago(60, start_min=1), cpu=lambda i: 20.0 + i % 50)
    server = make_server(data, args=("--host-name", "weight-host"), interval=60)
    runs = [one_load(context(), server.url("/")) for _ in range(LOADS)]
    static = [w["static"] for w, _, _ in runs]
    api = [w["api"] for w, _, _ in runs]
    times = [ms for _, ms, _ in runs]
    warm_ctx = context()
    one_load(warm_ctx, server.url("/"))  # fills this context's HTTP cache
    warm = [one_load(warm_ctx, server.url("/"))[1] for _ in range(LOADS)]
    with httpx.Client(trust_env=False) as c:
        bodies = {u: c.get(u).content for u in runs[0][2]}
    gz = sum(len(gzip.compress(b)) for b in bodies.values())
    print(
        f"\npage weight (cold, median of {LOADS} loads): static {statistics.median(static)} B on the wire "
        f"({len(bodies)} files, bodies {sum(map(len, bodies.values()))} B, {gz} B if gzipped), "
        f"API data {statistics.median(api)} B, {runs[0][0]['requests']} requests\n"
        f"time to first chart: median {statistics.median(times):.0f} ms, "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms; warm (cached assets): median "
        f"{statistics.median(warm):.0f} ms\n"
        f"files: { ({u.split('/', 3)[-1]: len(b) for u, b in bodies.items()}) }"
    )
    assert statistics.median(static) < STATIC_BUDGET
    assert statistics.median(times) < FIRST_CHART_BUDGET_MS


TRAFFIC_WINDOW_S = 30


def test_steady_refresh_traffic_per_hour(
    make_server: Callable[..., CheckdProcess], context: Callable[[], Any], tmp_path: Path
) -> None:
    """API bytes an open tab downloads at a 2 s interval, after its first load, scaled to an hour."""
    data = tmp_path / "traffic"
    # An hour of checks at 2 s, as an open tab meets it: the 1 h charts hold every point.
    seed_checks(data, "traffic-host", minutes_ago(1800, start_min=0, step_s=2), cpu=lambda i: 20.0 + i % 50)
    server = make_server(data, args=("--host-name", "traffic-host"), interval=2)
    page = context().new_page()
    finished: list[Any] = []
    page.goto(server.url("/"))
    page.wait_for_function("() => Number(document.body.dataset.ticks || 0) >= 2", timeout=30_000)

    def done(request: Any) -> None:
        finished.append(request)

    page.on("requestfinished", done)
    page.wait_for_timeout(TRAFFIC_WINDOW_S * 1000)
    total = 0
    by_path: dict[str, int] = {}
    for req in finished:
        sizes = req.sizes()
        size = int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"])
        total += size
        path = req.url.split("?")[0].split("/", 3)[-1]
        by_path[path] = by_path.get(path, 0) + size
    per_hour = total * 3600 / TRAFFIC_WINDOW_S
    print(
        f"\nsteady refresh at a 2 s interval: {len(finished)} requests, {total} B in {TRAFFIC_WINDOW_S} s "
        f"= {per_hour / 2**20:.2f} MiB/h; by path: {by_path}"
    )
    page.close()
    assert per_hour < 23 * 2**20  # the figure the review measured before incremental chart reads
