"""Throughput: requests/s of checkd's read routes against Glances' /api/4/cpu, side by side.

Goals (issue 2), with `wrk -t2 -c16` on loopback:
    GET /api/v2/checks/latest              >= 5x Glances' /api/4/cpu requests/s
    GET /v1.0/checks/cpu/history?size=100  >= 3x Glances' /api/4/cpu requests/s

It installs Glances into bench/.venv-glances on first use (`pip install glances[web]`), starts
`glances -w --disable-webui` (REST API only) and `checkd serve --interval 1` (sampler running,
as in production, on a SQLite database bulk-loaded with --populate checks) on free 127.0.0.1
ports, and then runs `wrk -t2 -c16 -d<seconds>s --latency` against each URL in turn, one at a
time, for --rounds rounds (the order rotates each round); it reports the median requests/s of
each URL and the ratios to Glances. The three servers live through the whole run, so the
ratios come from one run on the same (noisy, 2-core) machine. wrk shares the 2 cores.

checkd caches the body of these reads until the next stored check (every second here), so most
requests are cache hits. The extra rows "... (uncached)" add a unique `&nocache=N` parameter
to every request (bench/nocache.lua) so each one runs the SQL query and serialization: they
show what a miss costs, and are not what the goals are judged on. The "ceiling" rows serve a
fixed 400-byte body from bench/ceiling_app.py under the same uvicorn settings: "ceiling raw"
with a bare ASGI callable, "ceiling fastapi" through one FastAPI route; they show what this
machine can serve at all with this stack (--no-ceiling skips them).

--before DIR (a src/ tree of a base commit, e.g. `git archive main src | tar -x -C DIR`) adds a
second checkd serving a copy of the same database from that code (through PYTHONPATH, same
venv), with rows "... (before)" in the same rotation and the ratio this checkout / before (the
median of each round's ratio). --no-glances leaves Glances out (then there is no "x Glances" column).

Run (from the repository root):
    .venv/bin/python bench/throughput.py [--seconds 10] [--rounds 3] [--populate 100000]
        [--no-uncached] [--no-ceiling] [--before DIR] [--no-glances]
Results go to stdout and bench/out/throughput.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import bulk_load
import harness

NOCACHE_LUA = harness.BENCH_DIR / "nocache.lua"
GOALS = {"latest": 5.0, "history": 3.0}


def start_ceiling(app: str, workdir: Path) -> harness.Served:
    """Start bench/ceiling_app.py's `app` ("raw" or "fastapi") under uvicorn as checkd runs it."""
    port = harness.free_port()
    python, app_dir = str(harness.VENV_BIN / "python"), str(harness.BENCH_DIR)
    argv = [python, "-m", "uvicorn", "--app-dir", app_dir, f"ceiling_app:{app}"]
    argv += ["--loop", "asyncio", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    return harness.serve(f"ceiling {app}", argv, workdir, "/api/v2/checks/latest", port)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(
    url: str, *, threads: int = 2, conns: int = 16, seconds: int = 10, script: str | None = None
) -> dict[str, Any]:
    """Run `wrk -tT -cC -dDs --latency [-s SCRIPT] URL`; requests/s, latency p50/p99 in ms, non-2xx."""
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
    argv += ["-s", script, url] if script else [url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat: dict[str, float] = {}
    for q in ("50", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            lat[f"p{q}_ms"] = round(float(m.group(1)) * _UNITS[m.group(2)], 3)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": rps,
        **lat,
        "requests": int(total.group(1)) if total else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else None,
        "argv": " ".join(argv),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per URL per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--populate", type=int, default=100_000, help="checks bulk-loaded before start")
    ap.add_argument("--no-uncached", action="store_true", help="skip the cache-busting rows")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the bare uvicorn/FastAPI rows")
    ap.add_argument("--before", type=Path, help="src/ tree of a base commit, served beside this one")
    ap.add_argument("--no-glances", action="store_true", help="leave Glances out")
    args = ap.parse_args()

    result: dict[str, Any] = {"machine": harness.machine(), "populate": args.populate}
    with harness.temp_dir("throughput") as tmp:
        data = tmp / "checkd"
        data.mkdir()
        print(f"bulk-loading {args.populate} checks ...", flush=True)
        result["load_s"] = round(bulk_load.bulk_load(data / "checkd.db", args.populate).seconds, 1)
        procs: list[harness.Served] = []
        try:
            if args.before is not None:
                (tmp / "before").mkdir()
                shutil.copy(data / "checkd.db", tmp / "before" / "checkd.db")
            checkd = harness.start_checkd(data, interval=1)
            procs.append(checkd)
            targets: dict[str, str] = {}
            if not args.no_glances:
                glances = harness.start_glances(tmp / "glances")
                procs.append(glances)
                targets["glances"] = glances.url("/api/4/cpu")
            targets["latest"] = checkd.url("/api/v2/checks/latest")
            targets["history"] = checkd.url("/v1.0/checks/cpu/history?size=100")
            if args.before is not None:
                env = {"PYTHONPATH": str(args.before.resolve())}
                before = harness.start_checkd(tmp / "before", interval=1, name="checkd-before", env=env)
                procs.append(before)
                targets["latest (before)"] = before.url("/api/v2/checks/latest")
                targets["history (before)"] = before.url("/v1.0/checks/cpu/history?size=100")
            for name, url in targets.items():
                status, body = harness.http_get(url)
                if status != 200:
                    raise RuntimeError(f"{name}: {url} answered {status}: {body[:200]!r}")
                if name.startswith("history") and len(json.loads(body)) != 100:
                    raise RuntimeError("history did not return 100 points")
            extra = {}
            if not args.no_uncached:
                extra = {f"{n} (uncached)": u for n, u in targets.items() if n != "glances"}
            if not args.no_ceiling:
                for app in ("raw", "fastapi"):
                    procs.append(start_ceiling(app, tmp / "ceiling"))
                    extra[procs[-1].name] = procs[-1].url("/api/v2/checks/latest")
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*targets, *extra]}
            for name, url in {**targets, **extra}.items():  # warm-up: imports, caches, threads
                wrk(url, threads=args.threads, conns=args.conns, seconds=2, script=_script(name))
            order = list(targets) + list(extra)
            for r in range(args.rounds):
                rotated = order[r % len(order) :] + order[: r % len(order)]
                for name in rotated:
                    url = {**targets, **extra}[name]
                    res = wrk(
                        url,
                        threads=args.threads,
                        conns=args.conns,
                        seconds=args.seconds,
                        script=_script(name),
                    )
                    runs[name].append(res)
                    print(
                        f"  round {r + 1} {name:20} {res['rps']:9.1f} req/s  p50 {res.get('p50_ms')} ms  "
                        f"p99 {res.get('p99_ms')} ms  non-2xx {res['non_2xx']}",
                        flush=True,
                    )
                time.sleep(1)
            rss = {p.name: round(harness.rss_kib(p.pid) / 1024, 1) for p in procs}
        finally:
            for p in procs:
                harness.stop_process(p.proc)

    summary: dict[str, Any] = {}
    base = harness.median([x["rps"] for x in runs["glances"]]) if "glances" in runs else float("nan")
    for name, rs in runs.items():
        rps = harness.median([x["rps"] for x in rs])
        summary[name] = {
            "rps_median": round(rps, 1),
            "rps_rounds": [x["rps"] for x in rs],
            "p50_ms_median": round(harness.median([x.get("p50_ms", float("nan")) for x in rs]), 3),
            "p99_ms_median": round(harness.median([x.get("p99_ms", float("nan")) for x in rs]), 3),
            "non_2xx": sum(x["non_2xx"] for x in rs),
            "vs_glances": round(rps / base, 2),
            "argv": rs[0]["argv"],
        }
    if args.before is not None:  # the median of each round's ratio: both sides ran in that round
        result["after_vs_before"] = {
            name: round(harness.median([a["rps"] / b["rps"] for a, b in _paired(rs, runs[_before(name)])]), 3)
            for name, rs in runs.items()
            if _before(name) in runs
        }
    result["summary"] = summary
    result["rss_mib_after"] = rss
    print(f"\n{'url':22} {'req/s':>9} {'x Glances':>10}  goal")
    for name, s in summary.items():
        goal = GOALS.get(name)
        verdict = ""
        if goal is not None and "glances" in runs:
            verdict = f">= {goal}x: {'PASS' if s['vs_glances'] >= goal else 'FAIL'}"
        print(f"{name:22} {s['rps_median']:9.1f} {s['vs_glances']:10.2f}  {verdict}")
    for name, ratio in result.get("after_vs_before", {}).items():
        print(f"{name:22} this checkout / before: {ratio:.3f}")
    harness.save("throughput", result)


def _paired(these: list[dict[str, Any]], before: list[dict[str, Any]]) -> zip[tuple[Any, Any]]:
    """Each round's result of a row with the same round's result of its "before" row."""
    return zip(these, before, strict=True)


def _before(name: str) -> str:
    """The base commit's row matching `name`: "latest (uncached)" -> "latest (before) (uncached)"."""
    head, _, rest = name.partition(" ")
    return f"{head} (before){' ' + rest if rest else ''}"


def _script(name: str) -> str | None:
    return str(NOCACHE_LUA) if "uncached" in name else None


if __name__ == "__main__":
    main()
