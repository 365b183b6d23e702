"""History at scale (issue 4): latest-N and 30-day history latency with 10 k, 1 M and 10 M stored checks.

Goals: 30-day history p50 <= 50 ms at 1 s sampling, flat as the stored checks grow and as fast as
a 1-hour chart; loading 10 M checks takes minutes, not hours. Latest-N latency and bytes per
check are reported at each size too (bench/year_size.py judges the storage goal).

For each size N it
  1. bulk-loads N checks of host "bench-loaded" into a fresh SQLite file (bulk_load.py: one
     disk, one service, 1 s apart, ending now) and reports the load rate;
  2. folds all of them into the rollups with checkd's own upkeep (Upkeep.fold, the catch-up
     after an import or a downtime) and reports its rate; then the steady state: 60 new checks (a
     minute at 1 s) written through store.CheckWriter, and one timed Upkeep.fold, 3 rounds;
  3. measures, all sizes interleaved so the noisy machine hits them alike:
     - in-process p50/p95 of store.list_checks(limit=100) and store.series(cpu_percent) over
       30 d, 7 d, 1 h and 8 h (points=500), with the plan of every SELECT they (and the fold)
       issue (sqlite3's trace callback, then EXPLAIN QUERY PLAN);
     - over HTTP: one `checkd serve --database-url sqlite:///DB` per size, sampler not started,
       one keep-alive connection each, p50/p95 of /api/v2/checks/latest, /api/v2/checks?limit=100,
       /api/v2/history/cpu_percent over the same ranges and availability over 30 d. checkd caches
       only reads about its own host (bench-host); these name bench-loaded, so each runs its query;
  4. bytes per check per size: the whole file, and the raw tables with their index (dbstat).

Run (from the repository root; about 15 minutes with 10 M, most of it loading and folding):
    .venv/bin/python bench/history_scale.py [--sizes 10000,1000000,10000000] [--requests 200]
        [--runs 100] [--workdir DIR [--reuse]] [--max-minutes 25]
--workdir keeps the databases there; --reuse measures the ones a previous run left there.
Results go to stdout and bench/out/history_scale.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import http.client
import json
import operator
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bulk_load
import harness

HOST = "bench-loaded"
DAY = 86400
RANGES = {"30d": 30 * DAY, "7d": 7 * DAY, "1h": 3600, "8h": 8 * 3600}  # 8 h: widest range from raw checks


def human(n: int) -> str:
    """10k, 1M, ..."""
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def iso(t: int) -> str:
    """An RFC 3339 UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Traced:
    """An engine on `db` whose SQLite connections report each statement, and those statements' plans."""

    def __init__(self, db: Path) -> None:
        from sqlalchemy import event

        from checkd.db import make_engine

        self.db, self.capturing, self.statements = db, False, list[str]()
        self.engine = make_engine(f"sqlite:///{db}")
        event.listen(self.engine, "connect", lambda dbapi, _rec: dbapi.set_trace_callback(self._seen))

    def _seen(self, sql: str) -> None:
        if self.capturing and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append(sql)

    def plans(self, call: Callable[[], object]) -> list[str]:
        """EXPLAIN QUERY PLAN of each SELECT that `call` issues (bound values inlined by SQLite)."""
        self.statements, self.capturing = [], True
        try:
            call()
        finally:
            self.capturing = False
        explain = [harness.query(self.db, "EXPLAIN QUERY PLAN " + sql) for sql in self.statements]
        return [" / ".join(row[3] for row in rows) for rows in explain]


def build(db: Path, n: int) -> dict[str, Any]:
    """Bulk-load `n` checks into a fresh `db` and fold them all with Upkeep.fold."""
    from checkd.config import RetentionSettings
    from checkd.db import make_engine
    from checkd.upkeep import Upkeep

    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    harness.log(f"{human(n)}: bulk-loading {n:,} checks")
    res = bulk_load.bulk_load(db, n, host=HOST)
    harness.log(f"{human(n)}: {res.seconds:.1f} s = {res.rate:,.0f} checks/s; folding all with Upkeep.fold")
    engine = make_engine(f"sqlite:///{db}")
    t0 = time.monotonic()
    folded = Upkeep(engine=engine, host=HOST, retention=RetentionSettings()).fold()
    fold_s = time.monotonic() - t0
    engine.dispose()
    harness.log(f"{human(n)}: folded {folded:,} checks in {fold_s:.1f} s = {folded / fold_s:,.0f}/s")
    return {
        "load": {"seconds": round(res.seconds, 2), "checks_per_s": round(res.rate)},
        "fold_catch_up": {
            "checks": folded,
            "seconds": round(fold_s, 2),
            "checks_per_s": round(folded / fold_s),
        },
    }


def fold_steady_state(db: Path, rounds: int = 3, new: int = 60) -> dict[str, Any]:
    """Upkeep.fold of `new` checks written through CheckWriter after the newest one; per round."""
    from checkd import store
    from checkd.config import RetentionSettings
    from checkd.upkeep import Upkeep

    traced = Traced(db)
    upkeep = Upkeep(engine=traced.engine, host=HOST, retention=RetentionSettings())
    writer = store.CheckWriter(engine=traced.engine, host=HOST)
    with traced.engine.connect() as conn:
        newest = store.list_checks(conn=conn, host=HOST, limit=1)[0]
    times, plans = [], list[str]()
    for r in range(rounds + 1):
        base = int(newest.taken_at) + 1 + r * new
        writer.write([dataclasses.replace(newest, id=None, taken_at=base + i) for i in range(new)])
        t0 = time.perf_counter()
        if r < rounds:
            assert upkeep.fold() == new
            times.append((time.perf_counter() - t0) * 1000)
        else:
            plans = traced.plans(upkeep.fold)
    writer.close()
    traced.engine.dispose()
    return {"new_checks": new, **harness.stats_ms(times), "plans": plans, "newest": base + new - 1}


def in_process(db: Path, end: int, runs: int) -> dict[str, Any]:
    """store.list_checks and store.series in-process: p50/p95 ms and the plans of their SELECTs."""
    from checkd import store
    from checkd.config import RetentionSettings

    keep = RetentionSettings()
    retentions = store.Retentions(raw=keep.seconds("raw"), minute=keep.seconds("minute"))
    traced = Traced(db)
    out: dict[str, Any] = {}
    with traced.engine.connect() as conn:
        calls: dict[str, Callable[[], object]] = {
            "list_checks_100": lambda: store.list_checks(conn=conn, host=HOST, limit=100)
        }
        for label, span in RANGES.items():
            calls[f"series_cpu_{label}"] = functools.partial(
                store.series, conn=conn, host=HOST, metric="cpu_percent", qualifier=None, since=end - span,
                until=end, points=500, now=end, keep=retentions,
            )  # fmt: skip
        for name, call in calls.items():
            for _ in range(5):
                call()  # warm-up: page cache, id caches
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = {**harness.stats_ms(times), "plans": traced.plans(call)}
        t0 = time.perf_counter()
        store.host_summaries(conn=conn)
        out["host_summaries_once_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    traced.engine.dispose()
    return out


def http_paths(end: int) -> dict[str, str]:
    """The timed GET paths, ending at `end` (the newest check)."""
    h = f"host={HOST}"
    paths = {"latest": f"/api/v2/checks/latest?{h}", "checks_limit100": f"/api/v2/checks?{h}&limit=100"}
    for label, span in RANGES.items():
        window = f"since={iso(end - span)}&until={iso(end)}&points=500"
        paths[f"history_cpu_{label}"] = f"/api/v2/history/cpu_percent?{h}&{window}"
    window = f"since={iso(end - 30 * DAY)}&until={iso(end)}&points=500"
    paths["history_availability_30d"] = f"/api/v2/history/availability?{h}&service=httpd&{window}"
    return paths


def measure_http(ports: dict[int, int], ends: dict[int, int], requests: int) -> dict[int, Any]:
    """Every path on every server, interleaved (round-robin over sizes, order flipped each round)."""
    conns = {n: http.client.HTTPConnection("127.0.0.1", port, timeout=60) for n, port in ports.items()}
    paths = {n: http_paths(ends[n]) for n in ports}
    samples: dict[int, dict[str, list[float]]] = {n: {k: [] for k in paths[n]} for n in ports}
    shape: dict[int, dict[str, Any]] = {n: {} for n in ports}
    sizes = list(ports)
    try:
        for i in range(-10, requests):  # 10 warm-up rounds
            for kind in paths[sizes[0]]:
                for n in sizes if i % 2 == 0 else sizes[::-1]:
                    t0 = time.perf_counter()
                    conns[n].request("GET", paths[n][kind])
                    resp = conns[n].getresponse()
                    body = resp.read()
                    if i >= 0:
                        samples[n][kind].append((time.perf_counter() - t0) * 1000)
                    if resp.status != 200:
                        raise RuntimeError(f"{paths[n][kind]}: {resp.status} {body[:300]!r}")
                    if i == -1:
                        doc = json.loads(body)
                        shape[n][kind] = len(doc.get("points", doc.get("items", [doc])))
    finally:
        for c in conns.values():
            c.close()
    return {
        n: {k: {**harness.stats_ms(v), "items": shape[n][k]} for k, v in samples[n].items()} for n in ports
    }


def watchdog(_sig: int, _frame: object) -> None:
    """SIGALRM: the run took longer than --max-minutes."""
    raise TimeoutError("--max-minutes exceeded")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,1000000,10000000")
    ap.add_argument("--requests", type=int, default=200, help="timed HTTP requests per path and size")
    ap.add_argument("--runs", type=int, default=100, help="timed in-process calls per function and size")
    ap.add_argument("--workdir", type=Path, help="keep the databases here (default: a temp dir, removed)")
    ap.add_argument("--reuse", action="store_true", help="measure the databases left in --workdir")
    ap.add_argument("--max-minutes", type=float, default=25.0, help="watchdog")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(int(args.max_minutes * 60))
    result: dict[str, Any] = {"machine": harness.machine(), "sizes": {n: {} for n in sizes}}
    with harness.temp_dir("history-scale") as tmp:
        work = args.workdir or tmp
        work.mkdir(parents=True, exist_ok=True)
        dbs = {n: work / f"checks_{n}.db" for n in sizes}
        servers: list[harness.Served] = []
        try:
            for n in sizes:
                if not (args.reuse and dbs[n].exists()):
                    result["sizes"][n]["build"] = build(dbs[n], n)
                result["sizes"][n]["fold_steady_state"] = fold_steady_state(dbs[n])
                result["sizes"][n]["bytes"] = harness.db_bytes(dbs[n])
            ends = {n: result["sizes"][n]["fold_steady_state"]["newest"] for n in sizes}
            for n in sizes:
                harness.log(f"{human(n)}: in-process latencies")
                result["sizes"][n]["in_process"] = in_process(dbs[n], ends[n], args.runs)
            for n in sizes:
                flags = ["--database-url", f"sqlite:///{dbs[n]}"]
                served = harness.start_checkd(work / f"serve-{n}", autostart=False, name=f"{n}", args=flags)
                servers.append(served)
            harness.log(f"HTTP: {args.requests} timed requests per path and size, interleaved")
            http = measure_http({n: s.port for n, s in zip(sizes, servers, strict=True)}, ends, args.requests)
            for n in sizes:
                result["sizes"][n]["http"] = http[n]
        finally:
            for s in servers:
                harness.stop_process(s.proc)
            signal.alarm(0)
    summarize(result, sizes)
    harness.save("history_scale", result)
    return 0


def summarize(result: dict[str, Any], sizes: list[int]) -> None:
    """Print the tables: load and fold rates, HTTP and in-process p50/p95, bytes per check."""
    cols = "".join(f"{human(n):>20}" for n in sizes)
    print(f"\n{'':30}{cols}")
    for n in sizes:
        b = result["sizes"][n].get("build")
        if b:
            print(f"{human(n):>5}: load {b['load']['checks_per_s']:,} checks/s in {b['load']['seconds']} s; "
                  f"fold catch-up {b['fold_catch_up']['checks_per_s']:,} checks/s")  # fmt: skip
    rows: list[tuple[str, tuple[str, ...]]] = [("fold 60 new (steady)", ("fold_steady_state",))]
    rows += [(f"HTTP {k}", ("http", k)) for k in result["sizes"][sizes[0]]["http"]]
    rows += [(f"in-process {k}", ("in_process", k)) for k in ("list_checks_100", *(
        f"series_cpu_{label}" for label in RANGES))]  # fmt: skip
    for label, keys in rows:
        cells = [functools.reduce(operator.getitem, keys, result["sizes"][n]) for n in sizes]
        print(f"{label:30}" + "".join(f"{c['p50_ms']:>10.2f} /{c['p95_ms']:>7.2f}" for c in cells))
    for key in ("per_check_file", "per_check_raw_tables"):
        print(f"bytes {key:24}" + "".join(f"{result['sizes'][n]['bytes'][key]:>20}" for n in sizes))
    worst = max(result["sizes"][n]["http"]["history_cpu_30d"]["p50_ms"] for n in sizes)
    print(f"30-day history over HTTP, p50 at the worst size: {worst:.1f} ms; goal <= 50 ms: "
          f"{'PASS' if worst <= 50 else 'FAIL'}")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
