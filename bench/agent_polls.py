"""Agents' action long polls (issue 13 follow-up): what N agents waiting with nothing queued cost
PostgreSQL, this checkout's collector and a base tree's side by side in the same minutes.

One PostgreSQL cluster started like the tests' (tests/pg_server.py). For each code (this
checkout, and the --before src/ tree through PYTHONPATH) a fresh database, --agents ingest
tokens, one `checkd serve` collector (its own sampler at 60 s), one push per host (hosts exist,
tokens verified), then --agents long polls `GET /api/v2/agents/{host}/actions?wait=60` held open
from threads, renewed when answered. After --settle s (an idle backend's statistics reach
pg_stat_database up to 10 s late) the window opens: transactions ended in each database
(xact_commit + xact_rollback) and each collector's CPU over --seconds.

Run (from the repository root):
    .venv/bin/python bench/agent_polls.py [--agents 50] [--seconds 30] [--settle 12] [--before DIR]
Results go to stdout and bench/out/agent_polls.json.
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


def _request(
    port: int, method: str, path: str, token: str, body: bytes | None = None, wait: float = 10
) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=wait + 15)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers |= {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _first_push(port: int, host: str, token: str) -> None:
    check = Check(
        taken_at=time.time(),
        cpu=1.0,
        memory=MemoryUsage(total=8 << 30, available=4 << 30, used=4 << 30, percent=50.0),
        load=LoadAverage(0.5, 0.25, 0.125),
        disks=[DiskUsage(path="/", total=100 << 30, used=40 << 30, free=60 << 30, percent=40.0)],
    )
    body = gzip.compress(json.dumps([to_wire(check, host=host, seq=1)]).encode())
    deadline = time.monotonic() + 60
    while (status := _request(port, "POST", "/api/v2/ingest", token, body)) != 200:
        if time.monotonic() > deadline:  # /healthz answers before the database is open
            raise RuntimeError(f"push to port {port}: {status}")
        time.sleep(0.2)


class Collector:
    """One code's database, tokens, collector and waiting polls."""

    def __init__(self, pg: PostgresServer, args: argparse.Namespace, code: str, work: Path) -> None:
        self.code = code
        self.url = pg.create_database()
        self.database = self.url.rsplit("/", 1)[1]
        engine = make_engine(self.url)
        migrate(engine)
        hosts = [f"agent{i:03d}" for i in range(args.agents)]
        with engine.begin() as conn:
            self.tokens = {
                h: create_token(conn=conn, name=f"ingest-{h}", scope="ingest", host=h) for h in hosts
            }
        engine.dispose()
        env = {"PYTHONPATH": str(args.before.resolve())} if code == "before" else None
        self.served = start_checkd(
            work / code, interval=60, name=f"collector-{code}", args=("--database-url", self.url), env=env
        )
        self.stopping = threading.Event()
        self.polls_answered = 0
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._poll, args=(h,), daemon=True) for h in hosts]

    def start(self) -> None:
        for host, token in self.tokens.items():
            _first_push(self.served.port, host, token)
        for t in self.threads:
            t.start()

    def _poll(self, host: str) -> None:
        path = f"/api/v2/agents/{host}/actions?wait=60"
        while not self.stopping.is_set():
            try:
                status = _request(self.served.port, "GET", path, self.tokens[host], wait=60)
            except OSError as exc:
                if not self.stopping.is_set():
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                return
            if status != 200:
                self.errors.append(f"poll: {status}")
                return
            self.polls_answered += 1

    def close(self) -> None:
        self.stopping.set()
        stop_process(self.served.proc)


def _transactions(pg: PostgresServer, database: str) -> int:
    with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    """Run the comparison and save it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--settle", type=float, default=12.0)
    p.add_argument("--before", type=Path, default=None, help="a base commit's src/ tree")
    args = p.parse_args()
    codes = ["this", "before"] if args.before else ["this"]
    pg = PostgresServer().start()
    collectors: list[Collector] = []
    try:
        with temp_dir("checkd-polls-bench-") as work:
            try:
                collectors = [Collector(pg, args, code, work) for code in codes]
                for c in collectors:
                    c.start()
                log(f"{args.agents} polls waiting on each of {', '.join(codes)}; settling {args.settle:g} s")
                time.sleep(args.settle)
                before = {
                    c.code: (_transactions(pg, c.database), harness.proc_cpu_ticks_s(c.served.pid))
                    for c in collectors
                }
                load = os.getloadavg()
                started = time.monotonic()
                time.sleep(args.seconds)
                elapsed = time.monotonic() - started
                after = {
                    c.code: (_transactions(pg, c.database), harness.proc_cpu_ticks_s(c.served.pid))
                    for c in collectors
                }
                answered = {c.code: c.polls_answered for c in collectors}  # 0: every poll still waits
                errors = [e for c in collectors for e in c.errors]
                if errors:
                    raise RuntimeError(errors[0])
            finally:
                for c in collectors:
                    c.close()
    finally:
        pg.destroy()
    rounds = {
        c.code: {
            "transactions_per_s": round((after[c.code][0] - before[c.code][0]) / elapsed, 1),
            "collector_cpu_percent": round(100 * (after[c.code][1] - before[c.code][1]) / elapsed, 2),
            "polls_answered_by_window_end": answered[c.code],
        }
        for c in collectors
    }
    for code, r in rounds.items():
        log(f"{code}: {r['transactions_per_s']} transactions/s, collector CPU {r['collector_cpu_percent']} %")
    result: dict[str, Any] = {
        "agents": args.agents,
        "seconds": round(elapsed, 1),
        "load_average": [round(x, 2) for x in load],
        "rounds": rounds,
    }
    if "before" in rounds and rounds["this"]["transactions_per_s"]:
        result["before / this"] = round(
            rounds["before"]["transactions_per_s"] / rounds["this"]["transactions_per_s"], 1
        )
    print(json.dumps(result, indent=2))
    save("agent_polls", result)


if __name__ == "__main__":
    main()
