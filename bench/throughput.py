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

Run (from the repository root):
    .venv/bin/python bench/throughput.py [--seconds 10] [--rounds 3] [--populate 100000]
        [--no-uncached] [--no-ceiling]
Results go to stdout and bench/out/throughput.json.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import _common as common

NOCACHE_LUA = common.BENCH_DIR / "nocache.lua"
GOALS = {"latest": 5.0, "history": 3.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per URL per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--populate", type=int, default=100_000, help="checks bulk-loaded before start")
    ap.add_argument("--no-uncached", action="store_true", help="skip the cache-busting rows")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the bare uvicorn/FastAPI rows")
    args = ap.parse_args()

    result: dict[str, Any] = {"machine": common.machine(), "populate": args.populate}
    with common.temp_dir("throughput") as tmp:
        data = tmp / "checkd"
        data.mkdir()
        print(f"bulk-loading {args.populate} checks ...", flush=True)
        result["load_s"] = round(common.bulk_load(f"sqlite:///{data / 'checkd.db'}", args.populate), 1)
        procs: list[common.Served] = []
        try:
            checkd = common.start_checkd(data, interval=1)
            procs.append(checkd)
            glances = common.start_glances(tmp / "glances")
            procs.append(glances)
            targets = {
                "glances": glances.url("/api/4/cpu"),
                "latest": checkd.url("/api/v2/checks/latest"),
                "history": checkd.url("/v1.0/checks/cpu/history?size=100"),
            }
            for name, url in targets.items():
                status, body = common.http_get(url)
                if status != 200:
                    raise RuntimeError(f"{name}: {url} answered {status}: {body[:200]!r}")
                if name == "history" and len(json.loads(body)) != 100:
                    raise RuntimeError("history did not return 100 points")
            extra = {}
            if not args.no_uncached:
                extra = {"latest (uncached)": targets["latest"], "history (uncached)": targets["history"]}
            if not args.no_ceiling:
                for app in ("raw", "fastapi"):
                    procs.append(common.start_ceiling(app, tmp / "ceiling"))
                    extra[procs[-1].name] = procs[-1].url("/api/v2/checks/latest")
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*targets, *extra]}
            for name, url in {**targets, **extra}.items():  # warm-up: imports, caches, threads
                common.wrk(url, threads=args.threads, conns=args.conns, seconds=2, script=_script(name))
            order = list(targets) + list(extra)
            for r in range(args.rounds):
                rotated = order[r % len(order) :] + order[: r % len(order)]
                for name in rotated:
                    url = {**targets, **extra}[name]
                    res = common.wrk(
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
            rss = {p.name: round(common.rss_kib(p.pid) / 1024, 1) for p in procs}
        finally:
            for p in procs:
                common.stop_process(p.proc)

    summary: dict[str, Any] = {}
    base = common.median([x["rps"] for x in runs["glances"]])
    for name, rs in runs.items():
        rps = common.median([x["rps"] for x in rs])
        summary[name] = {
            "rps_median": round(rps, 1),
            "rps_rounds": [x["rps"] for x in rs],
            "p50_ms_median": round(common.median([x.get("p50_ms", float("nan")) for x in rs]), 3),
            "p99_ms_median": round(common.median([x.get("p99_ms", float("nan")) for x in rs]), 3),
            "non_2xx": sum(x["non_2xx"] for x in rs),
            "vs_glances": round(rps / base, 2),
            "argv": rs[0]["argv"],
        }
    result["summary"] = summary
    result["rss_mib_after"] = rss
    print(f"\n{'url':22} {'req/s':>9} {'x Glances':>10}  goal")
    for name, s in summary.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else f">= {goal}x: {'PASS' if s['vs_glances'] >= goal else 'FAIL'}"
        print(f"{name:22} {s['rps_median']:9.1f} {s['vs_glances']:10.2f}  {verdict}")
    common.save("throughput", result)


def _script(name: str) -> str | None:
    return str(NOCACHE_LUA) if "uncached" in name else None


if __name__ == "__main__":
    main()
