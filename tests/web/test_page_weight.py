"""Page weight of / with every asset, the time to the first drawn chart and an open tab's refresh
traffic (recorded in PERFORMANCE.md). With CHECKD_BASELINE_SRC set to another tree's src/ (e.g.
main's, checked out by `git worktree add`), each figure is also measured on a server run from that
tree, loads taking turns, and printed side by side."""

from __future__ import annotations

import gzip
import os
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
STATIC_BUDGET = 160_000  # bytes on the wire for HTML + CSS + JS (uncompressed)
FIRST_CHART_BUDGET_MS = 3000  # a loose bound: the goal (400 ms) holds on a quiet machine only
FIRST_CHART_GOAL_MS = 400
BASELINE_SRC = os.environ.get("CHECKD_BASELINE_SRC", "")


def baseline_env() -> dict[str, str] | None:
    """The environment running `checkd serve` from the baseline tree, or None when none is set."""
    if not BASELINE_SRC:
        return None
    return {"PYTHONPATH": os.pathsep.join(filter(None, [BASELINE_SRC, os.environ.get("PYTHONPATH", "")]))}


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


def one_load(ctx: Any, url: str) -> tuple[dict[str, int], float, list[str], list[str]]:
    """Bytes transferred by kind (static, api) until the first chart is drawn, and that time in ms;
    the API paths in the order they were asked for."""
    page = ctx.new_page()
    finished: list[Any] = []
    asked: list[str] = []

    def done(request: Any) -> None:
        finished.append(request)

    page.on("requestfinished", done)
    page.on("request", lambda r: asked.extend([r.url.split("/", 3)[-1]] if "/api/" in r.url else []))
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
    return weights, ms, static_urls, asked


def load_figures(label: str, runs: list[Any], warm: list[float]) -> tuple[list[int], list[float]]:
    """Print what `runs` (cold loads) and `warm` (cached-asset loads) of `server` measured; static
    bytes on the wire and first-chart times back."""
    static = [w["static"] for w, _, _, _ in runs]
    api = [w["api"] for w, _, _, _ in runs]
    times = [ms for _, ms, _, _ in runs]
    with httpx.Client(trust_env=False) as c:
        bodies = {u: c.get(u).content for u in runs[0][2]}
    gz = sum(len(gzip.compress(b)) for b in bodies.values())
    print(
        f"\n[{label}] page weight (cold, median of {LOADS} loads): static "
        f"{statistics.median(static)} B on the wire ({len(bodies)} files, bodies "
        f"{sum(map(len, bodies.values()))} B, {gz} B if gzipped), "
        f"API data {statistics.median(api)} B, {runs[0][0]['requests']} requests\n"
        f"[{label}] time to first chart: median {statistics.median(times):.0f} ms "
        f"(goal {FIRST_CHART_GOAL_MS}), "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms; warm (cached assets): median "
        f"{statistics.median(warm):.0f} ms; first API reads: {runs[0][3][:3]}\n"
        f"[{label}] files: { ({u.split('/', 3)[-1]: len(b) for u, b in bodies.items()}) }"
    )
    return static, times


def test_page_weight_and_time_to_first_chart(
    make_server: Callable[..., CheckdProcess], context: Callable[[], Any], tmp_path: Path
) -> None:
    data = tmp_path / "weight"
    seed_checks(data, "weight-host", minutes_ago(60, start_min=1), cpu=lambda i: 20.0 + i % 50)
    server = make_server(data, args=("--host-name", "weight-host"), interval=60)
    servers = {"this tree": server}
    if (env := baseline_env()) is not None:
        base_data = tmp_path / "weight-baseline"
        seed_checks(base_data, "weight-host", minutes_ago(60, start_min=1), cpu=lambda i: 20.0 + i % 50)
        servers["baseline"] = make_server(
            base_data, args=("--host-name", "weight-host"), interval=60, env=env
        )
    runs: dict[str, list[Any]] = {label: [] for label in servers}
    for _ in range(LOADS):  # loads take turns, so both trees meet the same machine load
        for label, s in servers.items():
            runs[label].append(one_load(context(), s.url("/")))
    warm: dict[str, list[float]] = {}
    for label, s in servers.items():
        warm_ctx = context()
        one_load(warm_ctx, s.url("/"))  # fills this context's HTTP cache
        warm[label] = [one_load(warm_ctx, s.url("/"))[1] for _ in range(LOADS)]
    figures = {label: load_figures(label, runs[label], warm[label]) for label in servers}
    static, times = figures["this tree"]
    # The first chart's read is preloaded by the page: it is the first API request, ahead of the rest.
    first_reads = [r[3][0] for r in runs["this tree"]]
    assert all(path.startswith("api/v2/history/cpu_percent") for path in first_reads), first_reads
    assert statistics.median(static) < STATIC_BUDGET
    assert statistics.median(times) < FIRST_CHART_BUDGET_MS


# Two minutes: the dashboard reads the charts' history every 2 minutes and grows them from the
# newest check in between, so the window holds one of those reads.
TRAFFIC_WINDOW_S = 120
TRAFFIC_GOAL = 2**20  # bytes per hour per open tab at a 2 s interval


class Tab:
    """An open dashboard tab on `server`, counting what its requests bring over the wire."""

    def __init__(self, page: Any, server: CheckdProcess) -> None:
        self.page = page
        self.server = server
        self.finished: list[Any] = []
        self.failed: list[str] = []

    def open(self) -> None:
        """Load the page and wait for its first two refreshes (the first load is not steady traffic)."""
        self.page.goto(self.server.url("/"))
        self.page.wait_for_function("() => Number(document.body.dataset.ticks || 0) >= 2", timeout=30_000)
        self.page.on("requestfinished", self.done)
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))

    def done(self, request: Any) -> None:
        """Count a finished request (Playwright wants a Python function, not a list's append)."""
        self.finished.append(request)

    def figures(self, label: str) -> float:
        """Print the bytes per hour, by path; that figure back."""
        total = 0
        by_path: dict[str, int] = {}
        for req in self.finished:
            sizes = req.sizes()
            size = int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"])
            total += size
            path = req.url.split("?")[0].split("/", 3)[-1]
            by_path[path] = by_path.get(path, 0) + size
        per_hour = total * 3600 / TRAFFIC_WINDOW_S
        print(
            f"\n[{label}] steady refresh at a 2 s interval: {len(self.finished)} requests, {total} B in "
            f"{TRAFFIC_WINDOW_S} s = {per_hour / 2**20:.2f} MiB/h (goal 1); by path: {by_path}"
        )
        return per_hour


def test_steady_refresh_traffic_per_hour(
    make_server: Callable[..., CheckdProcess], context: Callable[[], Any], tmp_path: Path
) -> None:
    """API bytes an open tab downloads at a 2 s interval, after its first load, scaled to an hour."""
    tabs: dict[str, Tab] = {}
    trees = {"this tree": None, "baseline": baseline_env()}
    for label, env in trees.items():
        if label != "this tree" and env is None:
            continue
        data = tmp_path / f"traffic-{len(tabs)}"
        # An hour of checks at 2 s, as an open tab meets it: the 1 h charts hold every point.
        seed_checks(
            data, "traffic-host", minutes_ago(1800, start_min=0, step_s=2), cpu=lambda i: 20.0 + i % 50
        )
        server = make_server(data, args=("--host-name", "traffic-host"), interval=2, env=env)
        tabs[label] = Tab(context().new_page(), server)
    for tab in tabs.values():  # both tabs open at once: the same window on the same machine
        tab.open()
    next(iter(tabs.values())).page.wait_for_timeout(TRAFFIC_WINDOW_S * 1000)
    per_hour = {label: tab.figures(label) for label, tab in tabs.items()}
    for tab in tabs.values():
        tab.page.close()
    assert not tabs["this tree"].failed, tabs["this tree"].failed  # a failed request would hide its bytes
    assert per_hour["this tree"] < TRAFFIC_GOAL
