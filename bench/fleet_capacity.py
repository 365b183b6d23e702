"""Fleet capacity (issue 13, docs/SCALING.md): one PostgreSQL's ingest ceiling and what runs out first.

The store path directly (the agent helper's `POST /api/v2/ingest` is not on this branch): simulated
agents write checks through `store.CheckWriter(...).write(batch)` as fast as they can, on a
fresh database migrated by checkd either to head (checks partitioned by day, migration 0009) or
only to 0006 (plain tables, as before), side by side in one run. Modes: `single` = one check per
statement and transaction (the sampler's write), `batch` = --batch checks of one host per
statement (what a collector writes for an agent's push or a drained spool).

Per variant: checks/s, CPU ms per check (agents, PostgreSQL), WAL bytes per check
(pg_current_wal_lsn around the window), disk bytes per stored check (tables + indexes of checks
and its children, all partitions) and the connections PostgreSQL served. Also the bytes of a
rollup row (1.2 M rows made in PostgreSQL; --rollups-only: just that). Separately: the
connections one real `checkd serve` (collector) holds on PostgreSQL while its sampler writes and
its API is read. Same throw-away cluster as fleet_ingest.py (pg_virtualenv, durable settings).

Run (from the repository root; about 4 minutes):
    .venv/bin/python bench/fleet_capacity.py [--agents 50] [--batch 50] [--seconds 20]
Results go to stdout and bench/out/fleet_capacity.json.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import threading
import time
from typing import Any

import fleet_ingest as fi
import harness

SIZE_SQL = """
SELECT coalesce(sum(pg_total_relation_size(r)), 0) FROM (
  SELECT relid AS r FROM pg_partition_tree(to_regclass(%s)) WHERE isleaf
  UNION SELECT to_regclass(%s) WHERE NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(%s))
) AS t
"""
TABLES = ("checks", "check_disks", "check_services")


def database(revision: str) -> tuple[str, str]:
    """A new database migrated by checkd to `revision`: (SQLAlchemy URL, its name)."""
    from alembic import command

    from checkd.db import alembic_config, make_engine

    name = f"capacity_{revision}_{time.monotonic_ns()}"
    fi.pg(f'CREATE DATABASE "{name}"')
    env = os.environ
    url = f"postgresql+psycopg://{env['PGUSER']}:{env['PGPASSWORD']}@127.0.0.1:{env['PGPORT']}/{name}"
    engine = make_engine(url)
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    engine.dispose()
    return url, name


def agent(i: int, url: str, batch: int, stop: Any, counts: Any, errors: Any) -> None:
    """Write `batch` checks of host agent<i> per call until `stop`; count what was stored."""
    from checkd import store
    from checkd.db import make_engine

    rng = random.Random(i)
    engine = make_engine(url, pool_size=1)
    writer = store.CheckWriter(engine=engine, host=f"agent{i}")
    try:
        while not stop.value:
            items = [fi.make_check(rng, fi.SERVICES[: 1 + i % 3]) for _ in range(batch)]
            try:
                writer.write(items)
            except Exception as exc:  # counted; the first one printed
                errors[i] += 1
                if errors[i] == 1:
                    print(f"agent{i}: {exc!r}"[:300], file=sys.stderr)
                time.sleep(0.1)
                continue
            counts[i] += len(items)
    finally:
        writer.close()
        engine.dispose()


def agent_process(p: int, threads: int, url: str, batch: int, stop: Any, counts: Any, errors: Any) -> None:
    """`threads` agents in this process."""
    ts = [threading.Thread(target=agent, args=(p * threads + t, url, batch, stop, counts, errors))
          for t in range(threads)]  # fmt: skip
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def storage(dbname: str) -> tuple[int, int, int]:
    """(WAL position in bytes, checks stored, bytes of checks and children with indexes)."""
    lsn = fi.pg("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn", dbname)[0][0]
    rows = fi.pg("SELECT count(*) FROM checks", dbname)[0][0]
    size = sum(fi.pg(SIZE_SQL.replace("%s", f"'{t}'"), dbname)[0][0] for t in TABLES)
    return int(lsn), int(rows), int(size)


def run(name: str, revision: str, batch: int, agents: int, seconds: float, warmup: float) -> dict[str, Any]:
    """One window of `agents` (2 processes of threads) writing `batch` checks per call."""
    url, dbname = database(revision)
    ctx = mp.get_context("fork")
    stop = ctx.Value("b", 0, lock=False)
    counts, errors = ctx.Array("q", agents, lock=False), ctx.Array("q", agents, lock=False)
    procs = 2
    children = [ctx.Process(target=agent_process, args=(p, agents // procs, url, batch, stop, counts, errors))
                for p in range(procs)]  # fmt: skip
    for c in children:
        c.start()
    try:
        deadline = time.monotonic() + 120
        while min(counts) == 0:
            if time.monotonic() > deadline or not all(c.is_alive() for c in children):
                raise RuntimeError(f"{name}: agents never wrote")
            time.sleep(0.2)
        time.sleep(warmup)
        wal0, rows0, _ = storage(dbname)
        res = fi.window(seconds, dbname, lambda: {c.pid for c in children if c.pid is not None})
        wal1, rows1, _ = storage(dbname)
        served = fi.pg(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{dbname}'")[0][0]
    finally:
        stop.value = 1
        for c in children:
            c.join(60)
    _, rows, size = storage(dbname)
    res.update(variant=name, batch=batch, errors=sum(errors), connections=served)
    res["wal_bytes_per_check"] = round((wal1 - wal0) / max(1, rows1 - rows0))
    res["disk_bytes_per_check"] = round(size / max(1, rows))
    res["stored_match_agents"] = rows == sum(counts)
    return res


def collector_connections(url: str) -> dict[str, int]:
    """Connections one `checkd serve` holds on PostgreSQL: idle after start, then under reads."""
    dbname = url.rsplit("/", 1)[1]
    count = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{dbname}'"
    with harness.temp_dir("capacity") as tmp:
        served = harness.start_checkd(tmp, env={"CHECKD_DATABASE__URL": url})
        try:
            time.sleep(3)
            idle = fi.pg(count)[0][0]
            paths = ("/api/v2/checks?limit=50", "/api/v2/hosts") * 50
            readers = [
                threading.Thread(target=lambda: [harness.http_get(served.url(p)) for p in paths])
                for _ in range(16)
            ]
            for t in readers:
                t.start()
            busy = 0
            while any(t.is_alive() for t in readers):
                busy = max(busy, fi.pg(count)[0][0])
                time.sleep(0.05)
        finally:
            harness.stop_process(served.proc)
    return {"idle": idle, "under_16_concurrent_readers": busy}


def rollup_row_bytes(rows_per_host: int = 12_000, hosts: int = 100) -> float:
    """Bytes per 1-minute rollup row (table and primary-key index), from rows made in PostgreSQL."""
    from checkd.db import head_revision

    _url, dbname = database(head_revision())
    fi.pg(
        "INSERT INTO rollups (tier, host_id, metric_id, bucket, min, max, total, count)"
        f" SELECT 1, h, 1 + b % 6, 1700000000 + 60 * (b / 6), 1.5, 2.5, 100.0, 60"
        f" FROM generate_series(1, {hosts}) h, generate_series(0, {rows_per_host - 1}) b",
        dbname,
    )
    fi.pg("VACUUM ANALYZE rollups", dbname)
    size = fi.pg("SELECT pg_total_relation_size('rollups')", dbname)[0][0]
    return round(size / (rows_per_host * hosts), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--rollups-only", action="store_true", help="only the bytes per rollup row")
    args = ap.parse_args()
    if "PGPORT" not in os.environ:  # a throw-away cluster on a free port, removed when this exits
        env = {**os.environ, "PGPORT": str(harness.free_port())}
        argv = ["pg_virtualenv", "-t", "-o", "max_connections=200", sys.executable, *sys.argv]
        os.execvpe(argv[0], argv, env)
    os.environ["PGHOST"] = "127.0.0.1"
    fi.configure(fi.DURABLE)
    from checkd.db import head_revision

    result: dict[str, Any] = {"machine": harness.machine(), "variants": []}
    result["postgres_version"] = fi.pg("SHOW server_version")[0][0]
    result["rollup_row_bytes"] = rollup_row_bytes()
    print(f"bytes per rollup row (with its primary key): {result['rollup_row_bytes']}")
    if args.rollups_only:
        harness.save("fleet_capacity_rollups", result)
        return
    kw = {"agents": args.agents, "seconds": args.seconds, "warmup": args.warmup}
    for mode, batch in (("single", 1), ("batch", args.batch)):
        for schema, revision in (("plain", "0006"), ("partitioned", head_revision())):
            res = run(f"{schema} {mode}", revision, batch, **kw)
            result["variants"].append(res)
            harness.log(f"{schema} {mode}: {res['checks_per_s']:,.0f} checks/s")
    result["collector_connections"] = collector_connections(database(head_revision())[0])
    print(f"\n== fleet capacity: {args.agents} agents, store path, durable ==")
    for r in result["variants"]:
        c = r["ms_cpu_per_check"]
        print(
            f"{r['variant']:24} {r['checks_per_s']:>8,.0f}/s;"
            f" CPU ms/check agents {c['clients']}, pg {c['postgres']};"
            f" pg ceiling {r['pg_ceiling_checks_per_s']}/s; WAL {r['wal_bytes_per_check']} B/check;"
            f" disk {r['disk_bytes_per_check']} B/check; connections {r['connections']}; errors {r['errors']}"
        )
    print(f"one checkd serve's connections: {result['collector_connections']}")
    harness.save("fleet_capacity", result)


if __name__ == "__main__":
    main()
