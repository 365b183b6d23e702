"""The dashboard's JS heap over 10 minutes at a 2 s interval: goal flat (issue 14, Performance).

A real `checkd serve --interval 2` whose store already holds the last hour of checks at 2 s (so the
1 h charts are full from the start and drop old points as new ones come), one chromium tab (driven over a CDP
pipe, bench/cdp_pipe.py: Playwright would enable the Network domain, whose records grow in the page's heap)
on its dashboard left open for --seconds. Every --every seconds the page's garbage is collected
(CDP HeapProfiler.collectGarbage) and its used JS heap, DOM nodes and event listeners are read
(CDP Performance.getMetrics). The first reading is taken after --warmup seconds: by then every code path
of the page has run at least once (its slowest cadence is the charts' history re-read, 120 s after the
first), so V8's compiled code for them is in the first reading, not counted as growth. With --before SRC
a second server, run from another tree's src/ (e.g. main's, from `git worktree add`), gets its own
tab in the same browser over the same minutes, and both are reported side by side.

"Flat": the heap at the end is within 10 % (and at least 256 KiB) of the heap at the start, and
the least-squares slope over the run is under 1 % of the start per minute.

Run (from the repository root):
    .venv/bin/python bench/dashboard_heap.py [--seconds 600] [--every 30] [--warmup 150]
        [--before /tmp/base/src]
Results go to stdout and bench/out/dashboard_heap.json.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import cdp_pipe
import harness

CHROMIUM = os.environ.get("CHECKD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync"]
INTERVAL_S = 2
FLAT_RATIO = 0.10  # end within 10 % of start...
FLAT_FLOOR = 256 * 1024  # ...or within 256 KiB, whichever is larger
FLAT_SLOPE = 0.01  # and under 1 % of the start per minute
WARMUP_S = 150  # the charts' history re-read (every 120 s) and a refresh after it, before the first reading


def seed_hour(data_dir: Path) -> None:
    """The last hour of checks at INTERVAL_S for the bench host, through checkd's own store."""
    from checkd import store
    from checkd.db import make_engine, migrate
    from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage

    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'checkd.db'}")
    now = int(time.time())
    try:
        migrate(engine)
        items = [
            Check(
                taken_at=t,
                cpu=20.0 + (t // INTERVAL_S) % 50,
                memory=MemoryUsage(total=8 << 30, available=4 << 30, used=4 << 30, percent=50.0),
                load=LoadAverage(0.5, 0.4, 0.3),
                disks=[DiskUsage(path="/", total=100 << 30, used=40 << 30, free=60 << 30, percent=40.0)],
                services={},
            )
            for t in range(now - 3600, now - INTERVAL_S, INTERVAL_S)
        ]
        with engine.begin() as conn:
            store.insert_checks(conn=conn, host=harness.HOST_NAME, items=items)
    finally:
        engine.dispose()


class Tab:
    """A dashboard tab on one server, in a context of its own, to collect garbage and read metrics."""

    def __init__(self, label: str, browser: cdp_pipe.Chromium, server: harness.Served) -> None:
        self.label = label
        self.browser = browser
        self.session = browser.new_page(server.url("/"), width=1280, height=1000)
        browser.send("Performance.enable", session=self.session)
        deadline = time.monotonic() + 60
        while self.refreshes() < 1:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: the dashboard did not refresh within 60 s")
            time.sleep(0.5)
        self.samples: list[dict[str, float]] = []
        self.started = time.monotonic()

    def refreshes(self) -> float:
        """How many refreshes the dashboard finished (its body's data-ticks)."""
        return float(
            self.browser.evaluate(self.session, "Number(document.body && document.body.dataset.ticks || 0)")
        )

    def sample(self) -> dict[str, float]:
        """Collect garbage, then read the used JS heap (bytes), DOM nodes, listeners, refreshes."""
        self.browser.send("HeapProfiler.collectGarbage", session=self.session)
        metrics = {
            m["name"]: m["value"]
            for m in self.browser.send("Performance.getMetrics", session=self.session)["metrics"]
        }
        row = {
            "t_s": round(time.monotonic() - self.started, 1),
            "heap_used": metrics["JSHeapUsedSize"],
            "nodes": metrics["Nodes"],
            "listeners": metrics["JSEventListeners"],
            "refreshes": self.refreshes(),
        }
        self.samples.append(row)
        return row


def slope_per_min(samples: list[dict[str, float]]) -> float:
    """Least-squares slope of the used heap, bytes per minute."""
    xs = [s["t_s"] / 60 for s in samples]
    ys = [s["heap_used"] for s in samples]
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def verdict(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Start vs end heap, slope, and whether that is flat."""
    start, end = samples[0]["heap_used"], samples[-1]["heap_used"]
    slope = slope_per_min(samples)
    flat = end - start <= max(FLAT_RATIO * start, FLAT_FLOOR) and slope <= FLAT_SLOPE * start
    return {
        "heap_start_kib": round(start / 1024, 1),
        "heap_end_kib": round(end / 1024, 1),
        "heap_max_kib": round(max(s["heap_used"] for s in samples) / 1024, 1),
        "change_pct": round(100 * (end - start) / start, 1),
        "slope_kib_per_min": round(slope / 1024, 2),
        "nodes_start_end": [samples[0]["nodes"], samples[-1]["nodes"]],
        "listeners_start_end": [samples[0]["listeners"], samples[-1]["listeners"]],
        "refreshes": samples[-1]["refreshes"],
        "flat": flat,
    }


def run(seconds: int, every: int, warmup: int, before: str, js_flags: str = "") -> dict[str, Any]:
    """Open the tab(s), sample them every `every` s for `seconds` after `warmup`; the result."""
    trees = {"this tree": None} | ({"before": before} if before else {})
    servers: dict[str, harness.Served] = {}
    with harness.temp_dir("dashboard-heap") as tmp:
        try:
            for label, src in trees.items():
                data = tmp / label.replace(" ", "-")
                seed_hour(data)
                env = {"PYTHONPATH": str(Path(src).resolve())} if src else None
                servers[label] = harness.start_checkd(data, interval=INTERVAL_S, name=label, env=env)
            browser = cdp_pipe.Chromium(
                CHROMIUM, CHROMIUM_ARGS + ([f"--js-flags={js_flags}"] if js_flags else [])
            )
            try:
                tabs = [Tab(label, browser, s) for label, s in servers.items()]
                time.sleep(warmup)
                deadline = time.monotonic() + seconds
                while True:
                    for tab in tabs:
                        row = tab.sample()
                        harness.log(
                            f"{tab.label}: heap {row['heap_used'] / 1024:.0f} KiB, "
                            f"nodes {row['nodes']:.0f}, "
                            f"listeners {row['listeners']:.0f}, refreshes {row['refreshes']:.0f}"
                        )
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(min(every, max(0.0, deadline - time.monotonic())))
                return {tab.label: {**verdict(tab.samples), "samples": tab.samples} for tab in tabs}
            finally:
                browser.close()
        finally:
            for s in servers.values():
                harness.stop_process(s.proc)


def main() -> None:
    """Parse the options, run, print and save."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=600, help="how long the tab stays open after the warm-up")
    ap.add_argument("--every", type=int, default=30, help="seconds between heap readings")
    ap.add_argument("--warmup", type=int, default=WARMUP_S, help="seconds before the first reading")
    ap.add_argument("--before", default="", help="another tree's src/ to run beside this one (same minutes)")
    ap.add_argument(
        "--js-flags",
        default="",
        help="V8 flags for chromium, e.g. '--no-maglev --no-turbofan' (no optimized code in the heap)",
    )
    args = ap.parse_args()
    machine = harness.machine()
    result = run(args.seconds, args.every, args.warmup, args.before, args.js_flags)
    print(f"\nJS heap over {args.seconds} s at a {INTERVAL_S} s interval (after GC, CDP getMetrics):")
    for label, r in result.items():
        print(
            f"  {label}: start {r['heap_start_kib']} KiB, end {r['heap_end_kib']} KiB "
            f"({r['change_pct']:+} %), "
            f"max {r['heap_max_kib']} KiB, slope {r['slope_kib_per_min']} KiB/min, DOM nodes "
            f"{r['nodes_start_end']}, listeners {r['listeners_start_end']}, {r['refreshes']:.0f} refreshes: "
            f"{'PASS (flat)' if r['flat'] else 'FAIL (grows)'}"
        )
    harness.save(
        "dashboard_heap",
        {
            "machine": machine,
            "seconds": args.seconds,
            "interval_s": INTERVAL_S,
            "js_flags": args.js_flags,
            **result,
        },
    )


if __name__ == "__main__":
    main()
