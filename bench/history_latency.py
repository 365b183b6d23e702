"""History latency: p50 of /v1.0/checks/cpu/history?size=100 with 10,000 vs 1,000,000 stored checks.

Goal (issue 2): p50 with 1,000,000 stored checks within 1.5x of p50 with 10,000.

It bulk-loads two SQLite databases (bulk_load.py: checkd's own migrations and tables, one
check per second, one disk and one service each), starts one `checkd serve` on each (sampler
not started, so the data stay put), and sends the two servers the same request alternately
from one keep-alive client, one at a time, --requests times each after a warm-up. Each request
carries a unique `nocache=N` parameter, which the route ignores but which makes checkd's
response cache miss, so every request runs the SQL query: that is the figure the goal is
judged on. The plain URL (answered from the cache after the first request) is measured too,
and the SQL query alone (store.cpu_history in-process) with its query plan.

Run (from the repository root):
    .venv/bin/python bench/history_latency.py [--small 10000] [--large 1000000] [--requests 2000]
Results go to stdout and bench/out/history_latency.json.
"""

from __future__ import annotations

import argparse
import http.client
import time
from pathlib import Path
from typing import Any

import bulk_load
import harness

PATH = "/v1.0/checks/cpu/history?size=100"


def timed_gets(conns: dict[str, http.client.HTTPConnection], n: int, bust: bool) -> dict[str, list[float]]:
    """GET PATH `n` times on each connection, alternating (and flipping the order every round)."""
    out: dict[str, list[float]] = {name: [] for name in conns}
    names = list(conns)
    for i in range(n):
        for name in names if i % 2 == 0 else names[::-1]:
            conn = conns[name]
            path = f"{PATH}&nocache={i}" if bust else PATH
            t0 = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            out[name].append((time.perf_counter() - t0) * 1000)
            if resp.status != 200 or not body.startswith(b"[{"):
                raise RuntimeError(f"{name}: {resp.status} {body[:200]!r}")
    return out


def sql_only(db: Path, n: int) -> dict[str, Any]:
    """store.cpu_history(size=100) in-process on `db`: p50 in ms, and SQLite's query plan."""
    from sqlalchemy import text

    from checkd import store
    from checkd.db import make_engine

    engine = make_engine(f"sqlite:///{db}")
    times = []
    with engine.connect() as conn:
        for _ in range(50):
            store.cpu_history(conn=conn, host=harness.HOST_NAME, size=100)
        for _ in range(n):
            t0 = time.perf_counter()
            rows = store.cpu_history(conn=conn, host=harness.HOST_NAME, size=100)
            times.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == 100
        hid = store.host_id(conn=conn, name=harness.HOST_NAME, create=False)
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT taken_at, cpu_pct FROM checks WHERE host_id = :h "
                "ORDER BY taken_at DESC, id DESC LIMIT 100"
            ),
            {"h": hid},
        ).all()
    engine.dispose()
    return {"p50_ms": round(harness.pct_of(times, 50), 4), "plan": [r[-1] for r in plan]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=2000, help="timed requests per server")
    ap.add_argument("--warmup", type=int, default=200)
    args = ap.parse_args()

    result: dict[str, Any] = {"machine": harness.machine(), "path": PATH, "requests": args.requests}
    sizes = {"small": args.small, "large": args.large}
    with harness.temp_dir("history") as tmp:
        for name, n in sizes.items():
            print(f"bulk-loading {n} checks ({name}) ...", flush=True)
            db = tmp / name / "checkd.db"
            db.parent.mkdir()
            took = bulk_load.bulk_load(db, n).seconds
            result[name] = {
                "checks": harness.count_checks(db),
                "load_s": round(took, 1),
                "db_mib": round(db.stat().st_size / 2**20, 1),
            }
            print(f"  {result[name]}", flush=True)
        procs: list[harness.Served] = []
        conns: dict[str, http.client.HTTPConnection] = {}
        try:
            for name in sizes:
                procs.append(harness.start_checkd(tmp / name, autostart=False, name=name))
                conns[name] = http.client.HTTPConnection("127.0.0.1", procs[-1].port, timeout=10)
            # Cached first: the cache keeps at most 256 bodies, and the unique URLs below fill it.
            timed_gets(conns, args.warmup, bust=False)
            cached = timed_gets(conns, args.requests, bust=False)
            timed_gets(conns, args.warmup, bust=True)
            uncached = timed_gets(conns, args.requests, bust=True)
        finally:
            for c in conns.values():
                c.close()
            for p in procs:
                harness.stop_process(p.proc)
        for name in sizes:
            result[name]["http_uncached"] = {
                f"p{q}_ms": round(harness.pct_of(uncached[name], q), 3) for q in (50, 90, 99)
            }
            result[name]["http_cached"] = {
                f"p{q}_ms": round(harness.pct_of(cached[name], q), 3) for q in (50, 99)
            }
            result[name]["sql_only"] = sql_only(tmp / name / "checkd.db", args.requests)

    ratio = result["large"]["http_uncached"]["p50_ms"] / result["small"]["http_uncached"]["p50_ms"]
    ratio_cached = result["large"]["http_cached"]["p50_ms"] / result["small"]["http_cached"]["p50_ms"]
    ratio_sql = result["large"]["sql_only"]["p50_ms"] / result["small"]["sql_only"]["p50_ms"]
    result["ratio_p50_uncached"] = round(ratio, 3)
    result["ratio_p50_cached"] = round(ratio_cached, 3)
    result["ratio_p50_sql_only"] = round(ratio_sql, 3)
    for name in sizes:
        r = result[name]
        print(
            f"{r['checks']:>9} checks: HTTP uncached p50 {r['http_uncached']['p50_ms']} ms "
            f"(p99 {r['http_uncached']['p99_ms']}), cached p50 {r['http_cached']['p50_ms']} ms, "
            f"SQL alone p50 {r['sql_only']['p50_ms']} ms; plan {r['sql_only']['plan']}"
        )
    print(
        f"p50 ratio large/small: uncached {ratio:.3f} (goal <= 1.5: {'PASS' if ratio <= 1.5 else 'FAIL'}), "
        f"cached {ratio_cached:.3f}, SQL alone {ratio_sql:.3f}"
    )
    harness.save("history_latency", result)


if __name__ == "__main__":
    main()
