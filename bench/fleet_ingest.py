"""Fleet ingest (issue 4): 50 simulated agents write into one PostgreSQL, one check per transaction.

Goal: at least 5,000 checks/s sustained on this 2-core machine (50,000 hosts at 10 s) through
the real write path; report the ceiling and what limits it.

PostgreSQL: a throw-away cluster of Debian's pg_virtualenv (the script runs itself under it when
PGPORT is unset) on a free port, used over 127.0.0.1, fsync=on and synchronous_commit=on unless
a variant says otherwise, a fresh database migrated by checkd per window. Agent i writes
realistic checks (one disk, 1-3 services) of host agent<i> as fast as it can, one per
transaction, through the sampler's `store.CheckWriter(...).write([check])` on its own engine;
agents are threads of forked processes (--layouts PxT). After a warm-up, it counts the checks
committed in a --seconds window and reads the CPU seconds of the agents, PostgreSQL and kernel
threads (/proc/<pid>/stat) and the machine (/proc/stat) at its edges. "pg ceiling" = cores /
PostgreSQL CPU-seconds per check: what the server alone takes when agents run elsewhere.

Reported apart: the best layout with synchronous_commit=off and with fsync=off; the peer,
pgbench (C) sending the same one-statement check (bench/check.pgbench); and the statements the
server logs per check (log_statement=all).

Run (from the repository root; about 5 minutes):
    .venv/bin/python bench/fleet_ingest.py [--agents 50] [--seconds 20] [--warmup 5]
        [--layouts 1x50,50x1,2x25] [--skip-variants]
Results go to stdout and bench/out/fleet_ingest.json.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

import harness

SERVICES = ("httpd", "sshd", "cron")
DURABLE = {"fsync": "on", "synchronous_commit": "on"}
_databases = iter(range(1, 1000))


def pg(sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
    """Run `sql` in autocommit as the cluster's superuser; its rows, if any."""
    with psycopg.connect(dbname=dbname, autocommit=True) as conn:
        cur = conn.execute(sql.encode())
        return cur.fetchall() if cur.description else []


def configure(settings: dict[str, str]) -> None:
    """ALTER SYSTEM SET each setting, reload, and wait until new sessions see them."""
    for key, value in settings.items():
        pg(f"ALTER SYSTEM SET {key} = '{value}'")
    pg("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 10
    while any(pg(f"SHOW {k}")[0][0] != v for k, v in settings.items()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not take {settings}")
        time.sleep(0.1)


def fresh_database() -> tuple[str, str]:
    """A new database migrated by checkd: (SQLAlchemy URL, its name)."""
    from checkd.db import make_engine, migrate

    name = f"fleet_{next(_databases)}"
    pg(f'CREATE DATABASE "{name}"')
    env = os.environ
    url = f"postgresql+psycopg://{env['PGUSER']}:{env['PGPASSWORD']}@127.0.0.1:{env['PGPORT']}/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url, name


def make_check(rng: random.Random, services: tuple[str, ...]) -> Any:
    """A realistic check (values vary like a real host's)."""
    from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage

    total, disk_total = 8 * 2**30, 250 * 2**30
    avail, used = rng.randint(2 * 2**30, 6 * 2**30), rng.randint(20 * 2**30, 120 * 2**30)
    load1 = rng.uniform(0, 4)
    return Check(
        taken_at=time.time(),
        cpu=round(rng.uniform(0, 100), 1),
        memory=MemoryUsage(total, avail, total - avail - 2**28, round(100 * (total - avail) / total, 1)),
        load=LoadAverage(round(load1, 2), round(load1 * 0.9, 2), round(load1 * 0.8, 2)),
        disks=[DiskUsage("/", disk_total, used, disk_total - used, round(100 * used / disk_total, 1))],
        services={s: ("active" if rng.random() < 0.97 else "inactive") for s in services},
    )


def agent(i: int, url: str, stop: Any, counts: Any, errors: Any, lat: list[float]) -> None:
    """Write checks of host agent<i> one per transaction until `stop`; count them, sample latency."""
    from checkd import store
    from checkd.db import make_engine

    rng = random.Random(i)
    engine = make_engine(url, pool_size=1)
    writer = store.CheckWriter(engine=engine, host=f"agent{i}")
    try:
        while not stop.value:
            check = make_check(rng, SERVICES[: 1 + i % 3])
            t0 = time.perf_counter()
            try:
                writer.write([check])
            except Exception as exc:  # counted; each agent's first one printed
                errors[i] += 1
                if errors[i] == 1:
                    print(f"agent{i}: {exc!r}"[:300], file=sys.stderr)
                time.sleep(0.1)
                continue
            counts[i] += 1
            if counts[i] % 10 == 0:  # a sample of commit latencies
                lat.append((time.perf_counter() - t0) * 1000)
    finally:
        writer.close()
        engine.dispose()


def agent_process(p: int, threads: int, url: str, stop: Any, counts: Any, errors: Any, q: Any) -> None:
    """`threads` agents in this process; their latency samples go to `q` at the end."""
    lat: list[float] = []
    ts = [threading.Thread(target=agent, args=(p * threads + t, url, stop, counts, errors, lat))
          for t in range(threads)]  # fmt: skip
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(lat)


def reading(dbname: str) -> tuple[int, tuple[int, ...], dict[int, tuple[str, int, float]], float]:
    """Checks in the database, the machine's CPU ticks, every process's CPU seconds, and the time."""
    rows = pg("SELECT count(*) FROM checks", dbname)[0][0]
    return rows, harness.machine_ticks(), harness.all_processes_cpu(), time.monotonic()


def window(seconds: float, dbname: str, clients: Callable[[], set[int]]) -> dict[str, Any]:
    """Rows, CPU per process group and machine ticks over `seconds` (the clients are running)."""
    postmaster = int(Path(pg("SHOW data_directory")[0][0], "postmaster.pid").read_text().split()[0])
    rows0, m0, s0, t0 = reading(dbname)
    time.sleep(seconds)
    rows1, m1, s1, t1 = reading(dbname)
    cpu = dict.fromkeys(("clients", "postgres", "kernel_threads", "other"), 0.0)
    mine = clients()
    for pid, (comm, ppid, secs) in s1.items():
        before = s0.get(pid)
        delta = secs - (before[2] if before and before[0] == comm else 0.0)  # born in the window: all
        group = "clients" if pid in mine else "postgres" if postmaster in (pid, ppid) else "other"
        cpu["kernel_threads" if group == "other" and 2 in (pid, ppid) else group] += max(0.0, delta)
    wall, ncpu = t1 - t0, os.cpu_count() or 1
    busy, iowait, steal = ((m1[k] - m0[k]) / harness.CLK_TCK for k in (0, 2, 3))
    n = rows1 - rows0
    per = {k: round(1000 * v / n, 3) if n else None for k, v in cpu.items()}
    return {
        "window_s": round(wall, 2), "checks": n, "checks_per_s": round(n / wall, 1),
        "cpu_s": {k: round(v, 2) for k, v in cpu.items()}, "ms_cpu_per_check": per,
        "cores_busy": round(busy / wall, 2), "iowait_s": round(iowait, 2), "steal_s": round(steal, 2),
        "pg_ceiling_checks_per_s": round(ncpu * n / cpu["postgres"]) if cpu["postgres"] else None,
        "e2e_ceiling_checks_per_s": round(ncpu * n / sum(cpu[k] for k in ("postgres", "clients",
                                                                         "kernel_threads"))) if n else None,
        "pg": {k: pg(f"SHOW {k}")[0][0] for k in ("fsync", "synchronous_commit", "shared_buffers")},
    }  # fmt: skip


def run_agents(name: str, layout: tuple[int, int], seconds: float, warmup: float) -> dict[str, Any]:
    """One window of the agents on a fresh database."""
    procs, threads = layout
    url, dbname = fresh_database()
    ctx = mp.get_context("fork")
    stop = ctx.Value("b", 0, lock=False)
    counts, errors = ctx.Array("q", procs * threads, lock=False), ctx.Array("q", procs * threads, lock=False)
    q = ctx.Queue()
    children = [ctx.Process(target=agent_process, args=(p, threads, url, stop, counts, errors, q))
                for p in range(procs)]  # fmt: skip
    for c in children:
        c.start()
    lat: list[float] = []
    try:
        deadline = time.monotonic() + 120
        while min(counts) == 0:
            if time.monotonic() > deadline or not all(c.is_alive() for c in children):
                raise RuntimeError(f"{name}: {sum(1 for x in counts if x == 0)} agents never wrote")
            time.sleep(0.2)
        time.sleep(warmup)
        res = window(seconds, dbname, lambda: {c.pid for c in children if c.pid is not None})
    finally:
        stop.value = 1
        for _ in children:
            lat.extend(q.get(timeout=60))
        for c in children:
            c.join(30)
    res.update(variant=name, layout=f"{procs}x{threads}", errors=sum(errors))
    res["agents_match_count"] = pg("SELECT count(*) FROM checks", dbname)[0][0] == sum(counts)
    res["commit_latency_ms"] = {
        "p50": round(harness.pct_of(lat, 50), 2),
        "p99": round(harness.pct_of(lat, 99), 2),
    }
    return res


PGBENCH_SCRIPT = harness.BENCH_DIR / "check.pgbench"


def run_pgbench(clients: int, seconds: float) -> dict[str, Any]:
    """The peer: `pgbench -M prepared -f check.pgbench`, one check per transaction; a middle window."""
    from checkd import store
    from checkd.db import make_engine
    from checkd.store import dims

    url, dbname = fresh_database()
    engine = make_engine(url)
    with engine.begin() as conn:
        hosts = [store.host_id(conn=conn, name=f"agent{i}") for i in range(clients)]
        ids = [dims.path_id(conn=conn, path="/")] + [dims.service_id(conn=conn, name=n) for n in SERVICES[:2]]
    engine.dispose()
    assert hosts == list(range(1, clients + 1)), hosts
    defs = [f"nhosts={clients}", *(f"{k}={v}" for k, v in zip(("pid", "s1", "s2"), ids, strict=True))]
    argv = ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(int(seconds) + 6), "-M", "prepared",
            "-f", str(PGBENCH_SCRIPT), *(x for d in defs for x in ("-D", d)), dbname]  # fmt: skip
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        time.sleep(3)
        res = window(seconds, dbname, lambda: {proc.pid})
        out = proc.communicate(timeout=seconds + 60)[0]
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out[-2000:]}")
    res.update(variant="pgbench, same statement from C", layout=f"pgbench -c {clients} -j 2", errors=0)
    return res


def statements_per_check(n: int = 20) -> dict[str, float]:
    """What the server log shows (log_statement=all) for `n` checks through CheckWriter, per check."""
    from checkd import store
    from checkd.db import make_engine

    url, _ = fresh_database()
    engine = make_engine(url, pool_size=1)
    writer = store.CheckWriter(engine=engine, host="counted")
    rng = random.Random(7)
    writer.write([make_check(rng, SERVICES[:2])])  # registers the host, path and service ids
    line = subprocess.run(["pg_lsclusters", "--no-header"], check=True, capture_output=True, text=True).stdout
    log = Path(line.split()[-1])
    configure({"log_statement": "all"})
    start = log.stat().st_size
    for _ in range(n):
        writer.write([make_check(rng, SERVICES[:2])])
    writer.close()
    engine.dispose()
    configure({"log_statement": "none"})
    kinds: dict[str, float] = {}
    logged = log.read_bytes()[start:].decode(errors="replace")
    for m in re.finditer(r"LOG:\s+(?:statement|execute [^:]*):\s*(.*)", logged):
        stmt = " ".join(m.group(1).split())[:40]
        if not stmt.startswith(("SHOW", "ALTER SYSTEM", "SELECT pg_reload_conf")):  # this bench's own
            kinds[stmt] = kinds.get(stmt, 0) + 1 / n
    return {k: round(v, 2) for k, v in kinds.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0, help="measurement window per variant")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--layouts", default="1x50,50x1,2x25", help="PxT: P processes of T threads")
    ap.add_argument("--skip-variants", action="store_true", help="only the real path, durable")
    args = ap.parse_args()
    layouts = [(int(p), int(t)) for p, t in (spec.split("x") for spec in args.layouts.split(","))]
    if any(p * t != args.agents for p, t in layouts):
        raise SystemExit(f"--layouts {args.layouts}: every PxT must make --agents {args.agents}")
    if "PGPORT" not in os.environ:  # a throw-away cluster on a free port, removed when this exits
        env = {**os.environ, "PGPORT": str(harness.free_port())}
        argv = ["pg_virtualenv", "-t", "-o", "max_connections=200", sys.executable, *sys.argv]
        os.execvpe(argv[0], argv, env)
    os.environ["PGHOST"] = "127.0.0.1"  # loopback TCP, as a fleet's agents connect (not the socket)
    configure(DURABLE)
    result: dict[str, Any] = {"machine": harness.machine(), "variants": []}
    result["postgres_version"] = pg("SHOW server_version")[0][0]
    kw = {"seconds": args.seconds, "warmup": args.warmup}
    for p, t in layouts:
        result["variants"].append(run_agents(f"real {p}x{t} durable", (p, t), **kw))
        harness.log(f"{p}x{t}: {result['variants'][-1]['checks_per_s']:,.0f} checks/s")
    lay, best = max(zip(layouts, result["variants"], strict=True), key=lambda lr: lr[1]["checks_per_s"])
    if not args.skip_variants:
        for setting in ({"synchronous_commit": "off"}, {"fsync": "off"}):
            configure({**DURABLE, **setting})
            label = ", ".join(f"{k}={v}" for k, v in setting.items())
            result["variants"].append(run_agents(f"real {best['layout']} {label}", lay, **kw))
        configure(DURABLE)
        result["variants"].append(run_pgbench(args.agents, args.seconds))
    result["statements_per_check"] = statements_per_check()
    print("\n== fleet ingest (goal >= 5,000 checks/s) ==")
    for r in result["variants"]:
        c = r["ms_cpu_per_check"]
        print(
            f"{r['variant']:40} {r['checks_per_s']:>8,.0f}/s ({r['checks_per_s'] / 5000:.2f}x goal); "
            f"CPU ms per check: client {c['clients']}, pg {c['postgres']}, kernel {c['kernel_threads']}; "
            f"pg ceiling {r['pg_ceiling_checks_per_s']}/s; cores busy {r['cores_busy']}, "
            f"other processes {r['cpu_s']['other']} CPU-s"
        )
    print(f"statements per check (server log): {result['statements_per_check']}")
    harness.save("fleet_ingest", result)


if __name__ == "__main__":
    main()
