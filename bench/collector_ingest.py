"""Collector ingest rate (issue 13): checks/s that `POST /api/v2/ingest` stores into PostgreSQL,
one `checkd serve` collector vs two on the same PostgreSQL, with each process's CPU beside it.

Each round starts a fresh database on one PostgreSQL cluster started like the tests'
(tests/pg_server.py: initdb, loopback, fsync=off), creates an ingest token for each of --hosts
simulated agents, starts N collectors (their own sampler at 60 s), warms them up with one push
per host (hosts, progress rows and verified tokens exist, as in a running fleet), then pushes
gzipped batches of --batch checks with increasing sequence numbers from --clients threads per
collector over kept-alive connections, a host always to the same collector, until --checks are
stored or --seconds pass. Bodies are built before the clock starts. Every push must answer 200
with all its checks accepted. CPU over the window: the collectors (/proc/<pid>/stat), every
PostgreSQL process (children of the postmaster), this client process, and the rest of the machine.

--before DIR (a src/ tree of a base commit, `git archive main src | tar -x -C DIR`) adds the same
rounds with collectors running that code (PYTHONPATH), alternated with this checkout's.

Run (from the repository root):
    .venv/bin/python bench/collector_ingest.py [--hosts 1000] [--batch 100] [--collectors 1,2]
        [--checks 300000] [--seconds 30] [--clients 8] [--rounds 1] [--before DIR]
Results go to stdout and bench/out/collector_ingest.json.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import harness
from harness import ROOT, log, save, start_checkd, stop_process, temp_dir

sys.path.insert(0, str(ROOT / "tests"))
import psycopg

from checkd.db import make_engine, migrate
from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage
from checkd.probes.wire import to_wire
from checkd.store.tokens import create_token
from pg_server import PostgresServer


def _check(t: float, seq: int) -> Check:
    return Check(
        taken_at=t,
        cpu=float(seq % 1000) / 10,
        memory=MemoryUsage(total=8 << 30, available=(4 << 30) + seq, used=(4 << 30) - seq, percent=50.0),
        load=LoadAverage(0.5, 0.25, 0.125),
        disks=[DiskUsage(path="/", total=100 << 30, used=40 << 30, free=60 << 30, percent=40.0)],
        services={"web": "active"},
    )


def _bodies(host: str, batch: int, count: int) -> list[bytes]:
    """`count` gzipped JSON batches of `host`, sequence numbers 2.. (1 is the warm-up push)."""
    out, seq, start = [], 1, time.time() - 86400
    for _ in range(count):
        items = []
        for _ in range(batch):
            seq += 1
            items.append(to_wire(_check(start + seq, seq), host=host, seq=seq))
        out.append(gzip.compress(json.dumps(items, separators=(",", ":")).encode(), 6))
    return out


def _push(conn: http.client.HTTPConnection, token: str, body: bytes) -> int:
    """POST one body; the number of checks accepted (raises on anything but 200)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    conn.request("POST", "/api/v2/ingest", body=body, headers=headers)
    resp = conn.getresponse()
    answer = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{resp.status} {answer[:200]!r}")
    return int(json.loads(answer)["accepted"])


def _drive(
    ports: list[int], tokens: dict[str, str], bodies: dict[str, list[bytes]], clients: int, seconds: float
) -> tuple[int, float]:
    """Push every body (each client its hosts, in turn) until done or `seconds`; (checks, seconds)."""
    hosts = list(tokens)
    n = clients * len(ports)
    accepted = [0] * n
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=60)
        mine = hosts[i::n]
        try:
            for k in range(len(bodies[mine[0]])):
                for h in mine:
                    if time.monotonic() > stop:
                        return
                    accepted[i] += _push(conn, tokens[h], bodies[h][k])
        except Exception as exc:  # reported by the caller
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return sum(accepted), time.monotonic() - started


def _pg_cpu_s(postmaster: int) -> float:
    """CPU seconds of PostgreSQL: the postmaster with its exited children, and its live children."""
    live = sum(cpu for _, ppid, cpu in harness.all_processes_cpu().values() if ppid == postmaster)
    return harness.proc_cpu_ticks_s(postmaster) + live


def _ready(port: int, token: str) -> None:
    """Wait until a collector's database is open (its /healthz answers before that)."""
    deadline = time.monotonic() + 60
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "GET", "/api/v2/agents/agent00000/actions?wait=0", headers={"Authorization": f"Bearer {token}"}
        )
        status = conn.getresponse().status
        conn.close()
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"collector on port {port} answers {status}")
        time.sleep(0.2)


def _round(
    pg: PostgresServer, args: argparse.Namespace, bodies: dict[str, list[bytes]], collectors: int, code: str
) -> dict[str, Any]:
    url = pg.create_database()
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        tokens = {h: create_token(conn=conn, name=f"ingest-{h}", scope="ingest", host=h) for h in bodies}
    engine.dispose()
    env = {"PYTHONPATH": str(args.before.resolve())} if code == "before" else None
    with temp_dir("checkd-ingest-bench-") as work:
        served = [
            start_checkd(
                work / f"c{i}", interval=60, name=f"collector{i}", args=("--database-url", url), env=env
            )
            for i in range(collectors)
        ]
        try:
            for s in served:
                _ready(s.port, tokens["agent00000"])
            first = _check(time.time() - 86400, 1)
            warm = {h: [gzip.compress(json.dumps([to_wire(first, host=h, seq=1)]).encode())] for h in tokens}
            _drive([s.port for s in served], tokens, warm, args.clients, 120)
            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(dsn, autocommit=True) as q:
                lsn0 = q.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
                pids = [s.pid for s in served]
                before = (
                    [harness.proc_cpu_ticks_s(p) for p in pids],
                    _pg_cpu_s(pg.pid or 0),
                    harness.proc_cpu_ticks_s(os.getpid()),
                    harness.machine_ticks()[0],
                    os.getloadavg(),
                )
                checks, elapsed = _drive([s.port for s in served], tokens, bodies, args.clients, args.seconds)
                after_pg = _pg_cpu_s(pg.pid or 0)
                mine = harness.proc_cpu_ticks_s(os.getpid()) - before[2]
                busy = (harness.machine_ticks()[0] - before[3]) / harness.CLK_TCK
                each = [harness.proc_cpu_ticks_s(p) - b for p, b in zip(pids, before[0], strict=True)]
                wal = q.execute("SELECT pg_current_wal_lsn() - %s::pg_lsn", (lsn0,)).fetchone()[0]  # type: ignore[index]
        finally:
            for s in served:
                stop_process(s.proc)
    pg_s = after_pg - before[1]
    return {
        "code": code,
        "collectors": collectors,
        "batch": args.batch,
        "checks": checks,
        "seconds": round(elapsed, 2),
        "checks_per_s": round(checks / elapsed),
        "cores": {  # CPU seconds over the window / its length: how much of a core each took
            "collectors": [round(c / elapsed, 2) for c in each],
            "postgresql": round(pg_s / elapsed, 2),
            "client": round(mine / elapsed, 2),
            "rest_of_machine": round((busy - sum(each) - pg_s - mine) / elapsed, 2),
        },
        "cpu_ms_per_check": {
            "collectors": round(sum(each) / checks * 1000, 4),
            "postgresql": round(pg_s / checks * 1000, 4),
        },
        "wal_bytes_per_check": round(int(wal) / checks),
        "loadavg_before": [round(x, 2) for x in before[4]],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    """Run the rounds and print them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hosts", type=int, default=1000)
    p.add_argument("--batch", type=int, default=100, help="checks per push")
    p.add_argument("--collectors", default="1,2", help="collector counts, one round each")
    p.add_argument("--checks", type=int, default=300_000, help="checks pushed per round (at most)")
    p.add_argument("--seconds", type=float, default=30, help="a round's time limit")
    p.add_argument("--clients", type=int, default=8, help="pushing threads per collector")
    p.add_argument("--rounds", type=int, default=1, help="times each configuration runs (alternated)")
    p.add_argument("--before", type=Path, help="src/ tree of a base commit, run alternately with this one")
    args = p.parse_args()
    names = [f"agent{i:05d}" for i in range(args.hosts)]
    per_host = max(1, -(-args.checks // (args.batch * args.hosts)))
    log(f"building {per_host} bodies of {args.batch} checks for each of {args.hosts} hosts")
    bodies = {h: _bodies(h, args.batch, per_host) for h in names}
    codes = ["this", "before"] if args.before else ["this"]
    plan = [
        (n, code)
        for _ in range(args.rounds)
        for n in (int(c) for c in args.collectors.split(","))
        for code in codes
    ]
    pg = PostgresServer().start()
    rounds = []
    try:
        for collectors, code in plan:
            rounds.append(_round(pg, args, bodies, collectors, code))
            r = rounds[-1]
            log(
                f"{code}: {collectors} collector(s), batch {args.batch}: {r['checks_per_s']} checks/s; "
                f"cores {r['cores']}; load {r['loadavg_after'][0]}"
            )
    finally:
        pg.destroy()
    best = {
        (code, n): max(r["checks_per_s"] for r in rounds if (r["code"], r["collectors"]) == (code, n))
        for n, code in plan
    }
    summary = {f"{code}, {n} collector(s)": rate for (code, n), rate in best.items()}
    for code in codes:
        if (code, 1) in best and (code, 2) in best:
            summary[f"{code}: two / one"] = round(best[code, 2] / best[code, 1], 2)
    if args.before:
        for n in {n for n, _ in plan}:
            summary[f"{n} collector(s): this / before"] = round(best["this", n] / best["before", n], 2)
    print(json.dumps({"rounds": rounds, "best": summary}, indent=2))
    save(
        "collector_ingest",
        {
            "rounds": rounds,
            "best": summary,
            "hosts": args.hosts,
            "fsync": "off",
            "args": vars(args) | {"before": str(args.before)},
        },
    )


if __name__ == "__main__":
    main()
