"""One collector's ingest rate (issue 13): checks/s that `POST /api/v2/ingest` stores into PostgreSQL.

A `checkd serve` collector (its own sampler at 60 s) in front of a PostgreSQL cluster started like
the tests' (tests/pg_server.py: initdb, loopback, fsync=off); --hosts simulated agents, each
with its ingest token, push gzipped batches of --batch checks with increasing sequence numbers,
from --clients threads over kept-alive connections (bodies are built before the clock starts).
Every push must answer 200 with all its checks accepted.

Run (from the repository root):
    .venv/bin/python bench/collector_ingest.py [--hosts 1000] [--batch 1,100] [--seconds 20] [--clients 8]
Results go to stdout and bench/out/collector_ingest.json.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import sys
import threading
import time

from harness import ROOT, log, save, start_checkd, stop_process, temp_dir

sys.path.insert(0, str(ROOT / "tests"))
from checkd.db import make_engine, migrate
from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage
from checkd.probes.wire import to_wire
from checkd.store.tokens import create_token
from pg_server import PostgresServer


def _check(t: float) -> Check:
    return Check(
        taken_at=t,
        cpu=12.5,
        memory=MemoryUsage(total=8 << 30, available=4 << 30, used=4 << 30, percent=50.0),
        load=LoadAverage(0.5, 0.25, 0.125),
        disks=[DiskUsage(path="/", total=100 << 30, used=40 << 30, free=60 << 30, percent=40.0)],
        services={"web": "active"},
    )


def _bodies(host: str, batch: int, count: int, seq0: int) -> list[bytes]:
    out, seq, now = [], seq0, time.time()
    for _ in range(count):
        items = []
        for _ in range(batch):
            seq += 1
            items.append(to_wire(_check(now - 86400 + seq % 86400), host=host, seq=seq))
        out.append(gzip.compress(json.dumps(items, separators=(",", ":")).encode(), 6))
    return out


def _round(
    port: int, tokens: dict[str, str], batch: int, seconds: float, clients: int, seq0: int
) -> dict[str, float]:
    hosts = list(tokens)
    per_host = max(2, int(40_000 / batch / len(hosts)) + 1)  # enough bodies for the window
    log(f"batch {batch}: building {per_host} bodies for each of {len(hosts)} hosts")
    bodies = {h: _bodies(h, batch, per_host, seq0) for h in hosts}
    accepted = [0] * clients
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = hosts[i::clients]
        for k in range(per_host):
            for h in mine:
                if time.monotonic() > stop:
                    return
                headers = {"Authorization": f"Bearer {tokens[h]}", "Content-Encoding": "gzip"}
                headers["Content-Type"] = "application/json"
                conn.request("POST", "/api/v2/ingest", body=bodies[h][k], headers=headers)
                resp = conn.getresponse()
                answer = resp.read()
                if resp.status != 200 or json.loads(answer)["accepted"] != batch:
                    errors.append(f"{resp.status} {answer[:200]!r}")
                    return
                accepted[i] += batch

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if errors:
        raise RuntimeError(errors[0])
    total = sum(accepted)
    return {"batch": batch, "checks": total, "seconds": elapsed, "checks_per_s": total / elapsed}


def main() -> None:
    """Run the rounds and print them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hosts", type=int, default=1000)
    p.add_argument("--batch", default="1,100")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--clients", type=int, default=8)
    args = p.parse_args()
    pg = PostgresServer().start()
    try:
        url = pg.create_database()
        engine = make_engine(url)
        migrate(engine)
        names = [f"agent{i:05d}" for i in range(args.hosts)]
        with engine.begin() as conn:
            tokens = {h: create_token(conn=conn, name=f"ingest-{h}", scope="ingest", host=h) for h in names}
        engine.dispose()
        with temp_dir("checkd-ingest-bench-") as work:
            collector = start_checkd(
                work / "collector", interval=60, name="collector", args=("--database-url", url)
            )
            try:
                rounds = []
                for n, batch in enumerate(int(b) for b in args.batch.split(",")):
                    rounds.append(
                        _round(collector.port, tokens, batch, args.seconds, args.clients, n * 10**9)
                    )
                    log(f"batch {batch}: {rounds[-1]['checks_per_s']:.0f} checks/s")
            finally:
                stop_process(collector.proc)
    finally:
        pg.destroy()
    print(json.dumps(rounds, indent=2))
    save("collector_ingest", {"rounds": rounds, "hosts": args.hosts, "clients": args.clients, "fsync": "off"})


if __name__ == "__main__":
    main()
