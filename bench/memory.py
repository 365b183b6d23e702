"""Memory: RSS of `checkd serve --interval 1` over time, next to Glances in web mode.

Goal (issue 11, item 8): RSS at most Glances' RSS measured in the same run, and flat: at most
1 MiB of growth from 5 to 60 minutes at 1 s sampling, a client polling `latest` every second
(`--hour`, or `make -C bench memory-hour`: --warmup 300 --seconds 3300 --every 10 --poll 1).

It starts `checkd serve --interval 1` (SQLite in a temp data dir, sampler running) and, unless
--no-glances, `glances -w --disable-webui` (installed into bench/.venv-glances on first use),
then reads VmRSS from /proc/<pid>/status every --every seconds for --seconds. It reports the RSS
at the start of the window, at the end and its maximum, the least-squares slope over the window
(MiB per hour) and, when the run is shorter than an hour, the RSS extrapolated to one hour from
that slope. --poll N sends N GET /api/v2/checks/latest per second to checkd (a dashboard).

--breakdown instead prints where the memory goes: the RSS after each step of the imports
`checkd serve` makes (cli, config, monitor, api.app, uvicorn) in a fresh interpreter, and what
each big third-party package adds when imported alone (and whether serve loads it).

Run (from the repository root):
    .venv/bin/python bench/memory.py [--seconds 600] [--every 5] [--warmup 20] [--poll 0]
        [--no-glances]
    .venv/bin/python bench/memory.py --breakdown
Results go to stdout and bench/out/memory.json (memory_breakdown.json).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import threading
import time
from typing import Any

import harness

# What `checkd serve` imports, in its order (cli -> monitor -> app -> server), for --breakdown.
SERVE_IMPORTS = [
    "checkd.cli",
    "checkd.config",
    "checkd.monitor",
    "checkd.api.app",
    "uvicorn",
    "httptools",
]
# Third-party packages whose own cost --breakdown reports (each alone in a fresh interpreter).
PACKAGES = [
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "typer",
    "rich",
    "httpx",
    "prometheus_client",
    "psutil",
    "opentelemetry",
    "psycopg",
    "watchfiles",
]

_SEQUENCE_CODE = """
import importlib, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
print('(interpreter)', rss(), flush=True)
for name in sys.argv[1:]:
    importlib.import_module(name)
    print(name, rss(), flush=True)
print('LOADED', ' '.join(sorted({m.split('.')[0] for m in sys.modules})), flush=True)
"""

_ALONE_CODE = """
import importlib, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
before = rss()
importlib.import_module(sys.argv[1])
print(rss() - before)
"""

# What pydantic-settings costs (issue 11 asked for it): its import after serve's other big
# dependencies (pydantic's schema machinery already warm), then checkd's Settings built from it.
_SETTINGS_CODE = """
import gc, os, tempfile
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4
import fastapi, pydantic, sqlalchemy, uvicorn, typer, prometheus_client, psutil
class Warm(pydantic.BaseModel):
    a: int = 1
Warm()
gc.collect(); r0 = rss()
import pydantic_settings
gc.collect(); r1 = rss()
os.environ['CHECKD_DATA_DIR'] = tempfile.mkdtemp()
from checkd.config import Settings
gc.collect(); r2 = rss()
Settings()
gc.collect(); r3 = rss()
print(r1 - r0, r3 - r2)
"""


def settings_cost(python: str, runs: int = 3) -> dict[str, float]:
    """Median KiB of importing pydantic_settings and of building Settings, each in a fresh interpreter."""
    imports, builds = [], []
    for _ in range(runs):
        out = subprocess.run([python, "-c", _SETTINGS_CODE], capture_output=True, text=True, check=True)
        imported, built = out.stdout.split()
        imports.append(int(imported))
        builds.append(int(built))
    return {
        "import_mib": round(harness.median(imports) / 1024, 2),
        "build_settings_mib": round(harness.median(builds) / 1024, 2),
    }


def breakdown() -> None:
    """RSS after each step of serve's imports, and what each big dependency costs alone."""
    python = str(harness.VENV_BIN / "python")
    out = subprocess.run(
        [python, "-c", _SEQUENCE_CODE, *SERVE_IMPORTS], capture_output=True, text=True, check=True
    ).stdout
    steps, loaded, prev = [], set(), 0
    print(f"{'serve imports, in order':28} {'RSS MiB':>8} {'+MiB':>7}")
    for line in out.splitlines():
        name, rest = line.split(" ", 1)
        if name == "LOADED":
            loaded = set(rest.split())
            continue
        kib = int(rest)
        steps.append(
            {"module": name, "rss_mib": round(kib / 1024, 1), "delta_mib": round((kib - prev) / 1024, 1)}
        )
        print(f"{name:28} {kib / 1024:8.1f} {(kib - prev) / 1024:+7.1f}")
        prev = kib
    alone = []
    print(f"\n{'package (alone, fresh interp.)':32} {'+MiB':>6}  loaded by serve's imports?")
    for pkg in PACKAGES:
        done = subprocess.run([python, "-c", _ALONE_CODE, pkg], capture_output=True, text=True, check=False)
        mib = round(int(done.stdout.strip()) / 1024, 1) if done.returncode == 0 else None
        alone.append({"package": pkg, "alone_mib": mib, "loaded_by_serve": pkg in loaded})
        print(f"{pkg:32} {mib if mib is not None else '-':>6}  {'yes' if pkg in loaded else 'no'}")
    print("(packages share dependencies, so the 'alone' figures overlap and do not add up)")
    settings = settings_cost(python)
    print(
        f"\npydantic-settings: import {settings['import_mib']} MiB after serve's other dependencies, "
        f"building Settings {settings['build_settings_mib']} MiB (median of 3)"
    )
    result = {"serve_imports": steps, "packages": alone, "pydantic_settings": settings}
    harness.save("memory_breakdown", result)


def slope_mib_per_h(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, KiB) points in MiB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((t - mx) ** 2 for t, _ in points)
    sxy = sum((t - mx) * (v - my) for t, v in points)
    return (sxy / sxx) * 3600 / 1024 if sxx else 0.0


def poller(url: str, rate: float, stop: threading.Event) -> None:
    """GET `url` `rate` times a second until `stop`."""
    while not stop.wait(1 / rate):
        with contextlib.suppress(OSError):
            harness.http_get(url, timeout=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=600, help="length of the sampled window")
    ap.add_argument("--every", type=float, default=5, help="seconds between RSS samples")
    ap.add_argument("--warmup", type=float, default=20, help="seconds after start-up before the window")
    ap.add_argument("--poll", type=float, default=0, help="GET /api/v2/checks/latest this many times/s")
    ap.add_argument("--no-glances", action="store_true")
    ap.add_argument("--breakdown", action="store_true", help="RSS per imported dependency, then exit")
    ap.add_argument("--hour", action="store_true", help="the goal's run: 5 to 60 min, every 10 s, poll 1/s")
    args = ap.parse_args()
    if args.hour:
        args.warmup, args.seconds, args.every, args.poll = 300, 3300, 10, 1
    if args.breakdown:
        breakdown()
        return

    result: dict[str, Any] = {"machine": harness.machine(), "seconds": args.seconds, "poll_per_s": args.poll}
    with harness.temp_dir("memory") as tmp:
        procs: list[harness.Served] = []
        stop = threading.Event()
        try:
            checkd = harness.start_checkd(tmp / "checkd", interval=1)
            procs.append(checkd)
            if not args.no_glances:
                procs.append(harness.start_glances(tmp / "glances"))
            if args.poll:
                threading.Thread(
                    target=poller, args=(checkd.url("/api/v2/checks/latest"), args.poll, stop), daemon=True
                ).start()
            time.sleep(args.warmup)
            series: dict[str, list[tuple[float, int]]] = {p.name: [] for p in procs}
            t0 = time.monotonic()
            next_print = t0
            while (now := time.monotonic()) - t0 <= args.seconds:
                for p in procs:
                    if p.proc.poll() is not None:
                        raise RuntimeError(f"{p.name} exited with {p.proc.returncode}")
                    series[p.name].append((now - t0, harness.rss_kib(p.pid)))
                if now >= next_print:
                    line = ", ".join(f"{n} {s[-1][1] / 1024:.1f} MiB" for n, s in series.items())
                    print(f"  t={now - t0:6.0f}s  {line}", flush=True)
                    next_print += 60
                time.sleep(args.every)
            hwm = {p.name: harness.proc_status(p.pid, "VmHWM") for p in procs}
            threads = {p.name: harness.proc_status(p.pid, "Threads") for p in procs}
            checks = harness.count_checks(checkd.data_dir / "checkd.db")
        finally:
            stop.set()
            for p in procs:
                harness.stop_process(p.proc)

    elapsed_from_start = args.warmup + args.seconds  # the process's age at the last sample, roughly
    for name, pts in series.items():
        slope = slope_mib_per_h(pts)
        last = pts[-1][1] / 1024
        extrapolated = last + slope * max(0.0, 3600 - elapsed_from_start) / 3600
        result[name] = {
            "rss_start_mib": round(pts[0][1] / 1024, 2),
            "rss_end_mib": round(last, 2),
            "rss_max_mib": round(max(v for _, v in pts) / 1024, 2),
            "vm_hwm_mib": round(hwm[name] / 1024, 2),
            "threads": threads[name],
            "slope_mib_per_h": round(slope, 3),
            "rss_at_1h_extrapolated_mib": round(extrapolated, 2),
            "samples": [(round(t, 1), v) for t, v in pts],
        }
    result["checkd"]["checks_stored"] = checks
    for name in series:
        r = result[name]
        print(
            f"{name}: start {r['rss_start_mib']} MiB, end {r['rss_end_mib']} MiB, "
            f"max {r['rss_max_mib']} MiB, "
            f"slope {r['slope_mib_per_h']} MiB/h -> {r['rss_at_1h_extrapolated_mib']} MiB at 1 h"
        )
    c = result["checkd"]
    growth = c["rss_end_mib"] - c["rss_start_mib"]
    print(f"flat (<= 1 MiB growth over the window): {'PASS' if growth <= 1 else 'FAIL'} ({growth:+.2f} MiB)")
    if "glances" in result:
        ratio = c["rss_end_mib"] / result["glances"]["rss_end_mib"]
        print(f"<= Glances' RSS: {'PASS' if ratio <= 1 else 'FAIL'} (checkd / glances {ratio:.3f})")
    harness.save("memory", result)


if __name__ == "__main__":
    sys.exit(main())
