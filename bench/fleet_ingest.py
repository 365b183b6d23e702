"""Fleet ingest into a real PostgreSQL: 50 simulated agents, one check per transaction, real write path.

Goal (issue 4): at least 5,000 checks/s sustained on this 2-core machine (50,000 hosts at 10 s).

A PostgreSQL cluster is started with tests/pg_server.py (PostgresServer, run as the postgres
user when root, on a free loopback port, stopped and removed at the end). The tests start it
with fsync=off on the command line; this bench restarts it with `fsync=on` for every variant
except the one that names fsync=off, so the main figures are durable (PostgreSQL's defaults:
fsync=on, synchronous_commit=on). Each variant gets a fresh database migrated by checkd.

Each agent i has its own engine (checkd.db.make_engine(url, pool_size=1)) and writes, as fast as
it can, one realistic check at a time (cpu, memory, load, one disk "/", 1-3 services) as host
f"agent{i}" through the real write path, the sampler's `checkd.store.CheckWriter`:

    writer = store.CheckWriter(engine=engine, host=f"agent{i}")
    writer.write([check])   # one statement in autocommit on a held connection

Agents run as threads and/or forked processes (--layouts, PxT = P processes of T threads):
1x50 (one process, GIL-bound), 50x1 (a process per agent) and 2x25. After a warm-up (every agent
has written), checks committed during a fixed window (--seconds) are counted by the agents and
cross-checked against count(*) in the database; CPU seconds of the client processes and of every
PostgreSQL process (postmaster and its children, from /proc/<pid>/stat) and of the whole machine
(/proc/stat) are read at the window's edges. "pg ceiling" = 2 cores / PostgreSQL CPU-seconds per
check: the rate PostgreSQL alone could sustain if the agents ran on other machines, as a fleet's do.

Variants reported separately (never mixed into the main figure):
  - synchronous_commit=off (fsync on), and fsync=off (the tests' setting), real write path;
  - pgbench-single-ac: one statement per check of the same shape from a C client (pgbench), to
    show what PostgreSQL alone sustains on this machine when the clients cost (almost) nothing.
Statements per check are counted with SQLAlchemy event hooks and with the server's own log
(log_statement=all) for a few checks.

Run (from the repository root; about 5 minutes):
    .venv/bin/python bench/fleet_ingest.py [--agents 50] [--seconds 20] [--warmup 5]
        [--layouts 1x50,50x1,2x25] [--max-minutes 14]
Results: stdout and bench/out/fleet_ingest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

import bulk_load as bl

ROOT = bl.ROOT
sys.path.insert(0, str(ROOT / "tests"))
from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage  # noqa: E402
from pg_server import PostgresServer  # noqa: E402

OUT = ROOT / "bench" / "out" / "fleet_ingest.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVICE_POOL = ("httpd", "sshd", "cron")


class Deadline(Exception):
    """The run's watchdog fired."""


def _on_alarm(_sig: int, _frame: FrameType | None) -> None:
    raise Deadline("watchdog: --max-minutes exceeded")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- PostgreSQL with chosen settings ------------------------------------------------------------------
class BenchPostgres(PostgresServer):
    """tests/pg_server.py's PostgresServer, (re)started with the settings a variant names."""

    def start_with(self, settings: dict[str, str]) -> None:
        """Stop if running, then start on the same port with `-c k=v` for `settings`."""
        self.stop()
        if not self.data.exists():
            self._run(
                "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
            )
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        opts += "".join(f" -c {k}={v}" for k, v in settings.items())
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.2)
        raise RuntimeError(f"postgres did not start: {self.log()[-2000:]}")

    def setting(self, name: str) -> str:
        with psycopg.connect(self.admin_dsn) as conn:
            row = conn.execute("SELECT setting FROM pg_settings WHERE name = %s", (name,)).fetchone()
        return str(row[0]) if row else "?"

    def processes(self) -> list[int]:
        """The postmaster and its children (backends, walwriter, checkpointer, ...)."""
        root = self.pid
        if root is None:
            return []
        out = [root]
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    stat = (d / "stat").read_bytes()
                    if int(stat[stat.rfind(b")") + 2 :].split()[1]) == root:
                        out.append(int(d.name))
        return out


def snapshot() -> dict[int, tuple[str, int, float]]:
    """pid -> (comm, ppid, utime+stime seconds) for every process."""
    out: dict[int, tuple[str, int, float]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (d / "stat").read_bytes()
            comm = stat[stat.find(b"(") + 1 : stat.rfind(b")")].decode(errors="replace")
            f = stat[stat.rfind(b")") + 2 :].split()
            out[int(d.name)] = (comm, int(f[1]), (int(f[11]) + int(f[12])) / CLK_TCK)
    return out


def attribute(
    before: dict[int, tuple[str, int, float]],
    after: dict[int, tuple[str, int, float]],
    groups: dict[str, Callable[[int, tuple[str, int, float]], bool]],
) -> dict[str, Any]:
    """CPU seconds between two snapshots per group (first matching group wins; a process born in
    between counts whole), plus the top other processes."""
    totals = dict.fromkeys([*groups, "other"], 0.0)
    names: dict[str, dict[str, float]] = {g: {} for g in totals}
    for pid, info in after.items():
        delta = info[2] - (before[pid][2] if pid in before and before[pid][0] == info[0] else 0.0)
        if delta <= 0:
            continue
        group = next((g for g, match in groups.items() if match(pid, info)), "other")
        totals[group] += delta
        comm = re.sub(r"\d+", "N", info[0])  # kworker/0:1H -> kworker/N:NH
        names[group][comm] = names[group].get(comm, 0.0) + delta

    def top(group: str) -> dict[str, float]:
        return {k: round(v, 2) for k, v in sorted(names[group].items(), key=lambda kv: -kv[1])[:5]}

    return {
        **{k: round(v, 2) for k, v in totals.items()},
        "top_other": top("other"),
        "top_kernel_threads": top("kernel_threads") if "kernel_threads" in groups else {},
    }


def is_kernel_thread(pid: int, info: tuple[str, int, float]) -> bool:
    return pid == 2 or info[1] == 2


def machine_ticks() -> tuple[int, int, int, int]:
    """(busy, idle, iowait, steal) ticks of all CPUs from /proc/stat; busy excludes steal."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = f[:8]
    return user + nice + system + irq + softirq, idle, iowait, steal


# -- checks and write paths ---------------------------------------------------------------------------
def make_check(rng: random.Random, services: tuple[str, ...]) -> Check:
    total = 8 * 2**30
    avail = rng.randint(2 * 2**30, 6 * 2**30)
    disk_total = 250 * 2**30
    used = rng.randint(20 * 2**30, 120 * 2**30)
    load1 = rng.uniform(0, 4)
    return Check(
        taken_at=time.time(),
        cpu=round(rng.uniform(0, 100), 1),
        memory=MemoryUsage(
            total=total,
            available=avail,
            used=total - avail - 2**28,
            percent=round(100 * (total - avail) / total, 1),
        ),
        load=LoadAverage(round(load1, 2), round(load1 * 0.9, 2), round(load1 * 0.8, 2)),
        disks=[
            DiskUsage(
                path="/",
                total=disk_total,
                used=used,
                free=disk_total - used,
                percent=round(100 * used / disk_total, 1),
            )
        ],
        services={s: ("active" if rng.random() < 0.97 else "inactive") for s in services},
    )


def writer(engine: Any, host: str) -> Callable[[Any], None]:
    """A function writing one check per transaction as Sampler.flush does (store.CheckWriter)."""
    from checkd import store

    check_writer = store.CheckWriter(engine=engine, host=host)
    return lambda check: check_writer.write([check])


# -- agents ----------------------------------------------------------------------------------------
def agent(i: int, url: str, stop: Any, counts: Any, errors: Any, lat: list[float]) -> None:
    from checkd.db import make_engine

    rng = random.Random(i)
    services = SERVICE_POOL[: 1 + i % 3]
    engine = make_engine(url, pool_size=1)
    try:
        write = writer(engine, f"agent{i}")
        k = 0
        while not stop.value:
            check = make_check(rng, services)
            t0 = time.perf_counter()
            try:
                write(check)
            except Exception as exc:
                errors[i] += 1
                if errors[i] == 1:
                    print(
                        f"agent{i}: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr, flush=True
                    )
                time.sleep(0.1)
                continue
            counts[i] += 1
            k += 1
            if k % 10 == 0:  # a sample of commit latencies
                lat.append((time.perf_counter() - t0) * 1000)
    finally:
        engine.dispose()


def agent_process(p: int, threads: int, url: str, stop: Any, counts: Any, errors: Any, q: Any) -> None:
    lats: list[list[float]] = [[] for _ in range(threads)]
    ts = [
        threading.Thread(
            target=agent, args=(p * threads + t, url, stop, counts, errors, lats[t]), daemon=True
        )
        for t in range(threads)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put([x for sub in lats for x in sub])


def run_variant(
    pg: BenchPostgres, *, name: str, layout: tuple[int, int], seconds: float, warmup: float
) -> dict[str, Any]:
    """One measurement window on a fresh database."""
    from checkd.db import make_engine, migrate

    procs, threads = layout
    n_agents = procs * threads
    url = pg.create_database()
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    dbname = url.rsplit("/", 1)[1]
    dsn = pg.admin_dsn.replace("dbname=postgres", f"dbname={dbname}")
    ctx = mp.get_context("fork")
    stop = ctx.Value("b", 0, lock=False)
    counts = ctx.Array("q", n_agents, lock=False)
    errors = ctx.Array("q", n_agents, lock=False)
    q = ctx.Queue()
    children = [
        ctx.Process(target=agent_process, args=(p, threads, url, stop, counts, errors, q), daemon=True)
        for p in range(procs)
    ]
    for c in children:
        c.start()
    lat: list[float] = []
    try:
        deadline = time.monotonic() + 120
        while min(counts) == 0 and time.monotonic() < deadline:
            if any(not c.is_alive() for c in children):
                raise RuntimeError(f"{name}: an agent process died during start-up")
            time.sleep(0.2)
        if min(counts) == 0:
            raise RuntimeError(f"{name}: {sum(1 for x in counts if x == 0)} agents never wrote")
        time.sleep(warmup)
        client_pids = {c.pid for c in children if c.pid is not None}
        pg_pids = set(pg.processes())
        with psycopg.connect(dsn) as conn:
            db0 = conn.execute("SELECT count(*) FROM checks").fetchone()[0]  # type: ignore[index]
        c0, e0, m0, s0, t0 = sum(counts), sum(errors), machine_ticks(), snapshot(), time.monotonic()
        time.sleep(seconds)
        c1, e1, m1, s1, t1 = sum(counts), sum(errors), machine_ticks(), snapshot(), time.monotonic()
        pg_pids |= set(pg.processes())
        with psycopg.connect(dsn) as conn:
            db1 = conn.execute("SELECT count(*) FROM checks").fetchone()[0]  # type: ignore[index]
    finally:
        stop.value = 1
        for _ in children:
            with contextlib.suppress(Exception):
                lat.extend(q.get(timeout=30))
        for c in children:
            c.join(30)
            if c.is_alive() and c.pid is not None:
                os.kill(c.pid, signal.SIGKILL)
                c.join(5)
    with psycopg.connect(dsn) as conn:
        db_final = conn.execute("SELECT count(*) FROM checks").fetchone()[0]  # type: ignore[index]
    cpu = attribute(
        s0,
        s1,
        {
            "clients": lambda pid, _i: pid in client_pids,
            "postgres": lambda pid, _i: pid in pg_pids,
            "kernel_threads": is_kernel_thread,
        },
    )
    res = summarize_window(
        name=name,
        layout=f"{procs}x{threads}",
        agents=n_agents,
        path="real",
        pg=pg,
        wall=t1 - t0,
        committed=c1 - c0,
        db_delta=db1 - db0,
        cpu=cpu,
        ticks=(m0, m1),
    )
    res["db_total_matches_agents"] = int(db_final) == sum(counts)
    res["errors"] = e1 - e0
    res["commit_latency_ms"] = {
        "p50": round(bl.percentile(lat, 50), 2),
        "p99": round(bl.percentile(lat, 99), 2),
    }
    log_variant(res)
    return res


def summarize_window(
    *,
    name: str,
    layout: str,
    agents: int,
    path: str,
    pg: BenchPostgres,
    wall: float,
    committed: int,
    db_delta: int,
    cpu: dict[str, Any],
    ticks: tuple[tuple[int, int, int, int], tuple[int, int, int, int]],
) -> dict[str, Any]:
    """Rates, CPU per check and ceilings of one window."""
    m0, m1 = ticks
    busy = (m1[0] - m0[0]) / CLK_TCK
    idle = (m1[1] - m0[1]) / CLK_TCK
    iowait = (m1[2] - m0[2]) / CLK_TCK
    steal = (m1[3] - m0[3]) / CLK_TCK
    client_cpu, pg_cpu, kth = cpu["clients"], cpu["postgres"], cpu["kernel_threads"]
    ncpu = os.cpu_count() or 1

    def per_check(x: float) -> float | None:
        return round(1000 * x / committed, 3) if committed else None

    return {
        "variant": name,
        "layout": layout,
        "agents": agents,
        "write_path": path,
        "pg": {
            k: pg.setting(k) for k in ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers")
        },
        "window_s": round(wall, 2),
        "checks": committed,
        "checks_per_s": round(committed / wall, 1),
        "db_rows_per_s": round(db_delta / wall, 1),
        "cpu_s": {
            **cpu,
            "machine_busy": round(busy, 2),
            "idle": round(idle, 2),
            "iowait": round(iowait, 2),
            "steal": round(steal, 2),
        },
        "cores_busy": round(busy / wall, 2),
        "ms_cpu_per_check": {
            "client": per_check(client_cpu),
            "postgres": per_check(pg_cpu),
            "kernel_threads": per_check(kth),
        },
        "pg_ceiling_checks_per_s": round(ncpu * committed / pg_cpu) if pg_cpu else None,
        "pg_plus_kernel_ceiling_checks_per_s": round(ncpu * committed / (pg_cpu + kth))
        if pg_cpu + kth
        else None,
        "end_to_end_ceiling_checks_per_s": round(ncpu * committed / (pg_cpu + kth + client_cpu))
        if pg_cpu + client_cpu
        else None,
    }


def log_variant(res: dict[str, Any]) -> None:
    c = res["ms_cpu_per_check"]
    log(
        f"{res['variant']:32} {res['checks_per_s']:>8,.0f} checks/s  (db {res['db_rows_per_s']:,.0f}/s)  "
        f"CPU/check client {c['client']} + pg {c['postgres']} + kthreads {c['kernel_threads']} ms, "
        f"cores busy {res['cores_busy']}, other {res['cpu_s']['other']}s {res['cpu_s']['top_other']}, "
        f"kthreads {res['cpu_s']['top_kernel_threads']}"
    )


# -- the same SQL from a C client (pgbench): what the server alone sustains ----------------------------
# One check with one disk and 2 services in one statement, as the real path writes it. :client_id
# picks one of the registered hosts (one per client).
PGBENCH_SINGLE = """\\set h :client_id % :nhosts + 1
\\set cpu random(0, 10000)
\\set mem random(2000, 9000)
\\set ld random(0, 400)
WITH c AS (
  INSERT INTO checks (host_id, taken_at, cpu_pct, load1, load5, load15,
                      mem_total_kib, mem_available_kib, mem_used_kib, mem_pct)
  VALUES (:h, extract(epoch from now())::bigint, :cpu, :ld, :ld, :ld, 8388608, 4000000, 3000000, :mem)
  RETURNING id
), d AS (
  INSERT INTO check_disks (check_id, path_id, total_kib, used_kib, free_kib, pct)
  SELECT c.id, :pid, 262144000, 50000000, 212144000, 1907 FROM c
), s AS (
  INSERT INTO check_services (check_id, service_id, state)
  SELECT c.id, x, 1 FROM c, unnest(ARRAY[:s1, :s2]::integer[]) AS x
)
SELECT id FROM c;
"""


def pgbench_variant(
    pg: BenchPostgres, *, name: str, script: str, seconds: float, clients: int
) -> dict[str, Any]:
    """pgbench -c clients -j 2 -M prepared running `script` (one check per transaction) on a fresh
    database; the window is the middle of the run, so every backend is alive at both snapshots."""
    from checkd import store
    from checkd.db import make_engine, migrate
    from checkd.store import dims

    url = pg.create_database()
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        hids = [store.host_id(conn=conn, name=f"agent{i}") for i in range(clients)]
        pid = dims.path_id(conn=conn, path="/")
        s1, s2 = (dims.service_id(conn=conn, name=n) for n in SERVICE_POOL[:2])
    engine.dispose()
    assert hids == list(range(1, clients + 1)), hids
    dbname = url.rsplit("/", 1)[1]
    dsn = pg.admin_dsn.replace("dbname=postgres", f"dbname={dbname}")
    path = pg.root / f"{name.split(maxsplit=1)[0]}.pgbench"
    path.write_text(script)
    path.chmod(0o644)
    argv = [
        str(pg.bindir / "pgbench"), "-n", "-c", str(clients), "-j", "2", "-T", str(int(seconds) + 6),
        "-M", "prepared", "-f", str(path),
        "-D", f"nhosts={clients}", "-D", f"pid={pid}", "-D", f"s1={s1}", "-D", f"s2={s2}",
        "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", dbname,
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(3)
        pg_pids = set(pg.processes())
        with psycopg.connect(dsn) as conn:
            db0 = conn.execute("SELECT count(*) FROM checks").fetchone()[0]  # type: ignore[index]
        m0, s0, t0 = machine_ticks(), snapshot(), time.monotonic()
        time.sleep(seconds)
        m1, s1_, t1 = machine_ticks(), snapshot(), time.monotonic()
        with psycopg.connect(dsn) as conn:
            db1 = conn.execute("SELECT count(*) FROM checks").fetchone()[0]  # type: ignore[index]
        out, _ = proc.communicate(timeout=seconds + 60)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed: {out[-2000:]}")
    cpu = attribute(
        s0,
        s1_,
        {
            "clients": lambda p, _i: p == proc.pid,
            "postgres": lambda p, _i: p in pg_pids,
            "kernel_threads": is_kernel_thread,
        },
    )
    label = name.split(maxsplit=1)[0]
    res = summarize_window(
        name=name, layout=f"pgbench -c {clients} -j 2", agents=clients, path=label,
        pg=pg, wall=t1 - t0, committed=db1 - db0, db_delta=db1 - db0, cpu=cpu, ticks=(m0, m1),
    )  # fmt: skip
    tps = re.search(r"tps = ([\d.]+)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    res["pgbench_tps"] = float(tps.group(1)) if tps else None
    res["commit_latency_ms"] = {"avg": float(lat.group(1)) if lat else None}
    res["errors"] = 0
    log_variant(res)
    return res


# -- statements per check ----------------------------------------------------------------------------
def count_statements(pg: BenchPostgres, n: int = 20) -> dict[str, Any]:
    """Statements per check of the real path: SQLAlchemy event hooks, and log_statement=all."""
    from sqlalchemy import event

    from checkd.db import make_engine, migrate

    url = pg.create_database()
    engine = make_engine(url, pool_size=1)
    migrate(engine)
    counted = {"cursor_execute": 0, "executemany": 0, "begin": 0, "commit": 0, "checkout(pre_ping)": 0}

    def on_exec(_c: Any, _cur: Any, _stmt: str, _p: Any, _ctx: Any, many: bool) -> None:
        counted["cursor_execute"] += 1
        counted["executemany"] += int(many)

    rng = random.Random(7)
    write = writer(engine, "counted")
    write(make_check(rng, SERVICE_POOL[:2]))  # first check registers host/path/service ids
    event.listen(engine, "before_cursor_execute", on_exec)

    def bump(key: str) -> Callable[..., None]:
        def hook(*_a: Any) -> None:
            counted[key] += 1

        return hook

    event.listen(engine, "begin", bump("begin"))
    event.listen(engine, "commit", bump("commit"))
    event.listen(engine.pool, "checkout", bump("checkout(pre_ping)"))
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET log_statement = 'all'")
        admin.execute("SELECT pg_reload_conf()")
    time.sleep(1)
    marker = f"bench-marker-{time.time_ns()}"
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute(f"SELECT '{marker}-start'")
    for _ in range(n):
        write(make_check(rng, SERVICE_POOL[:2]))
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute(f"SELECT '{marker}-end'")
        admin.execute("ALTER SYSTEM RESET log_statement")
        admin.execute("SELECT pg_reload_conf()")
    engine.dispose()
    text = pg.log()
    start = text.find("\n", text.find(f"{marker}-start"))  # the line after the start marker's
    section = text[start : text.rfind("\n", 0, text.find(f"{marker}-end"))]  # up to the end marker's
    kinds: dict[str, int] = {}
    for m in re.finditer(r"LOG:\s+(?:statement|execute [^:]*):\s*(.*)", section):
        stmt = " ".join(m.group(1).split())
        if marker in stmt:
            continue
        key = stmt.split("(")[0][:40] if stmt.upper().startswith(("INSERT", "WITH")) else stmt[:40]
        kinds[key] = kinds.get(key, 0) + 1
    server_total = sum(kinds.values())
    return {
        "write_path": "real",
        "checks": n,
        "services_per_check": 2,
        "sqlalchemy_per_check": {k: v / n for k, v in counted.items()},
        "server_statements_per_check": round(server_total / n, 2),
        "server_statements_by_kind_per_check": {k: round(v / n, 2) for k, v in sorted(kinds.items())},
    }


# -- main ------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0, help="measurement window per variant")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--layouts", default="1x50,50x1,2x25", help="PxT: P processes of T threads")
    ap.add_argument("--max-minutes", type=float, default=14.0)
    ap.add_argument("--skip-variants", action="store_true", help="only the real path, durable")
    args = ap.parse_args()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(args.max_minutes * 60))
    layouts = []
    for spec in args.layouts.split(","):
        p, t = (int(x) for x in spec.split("x"))
        if p * t != args.agents:
            raise SystemExit(f"--layouts {spec}: {p}x{t} != --agents {args.agents}")
        layouts.append((p, t))
    result: dict[str, Any] = {
        "benchmark": "fleet_ingest",
        "command": " ".join([".venv/bin/python", "bench/fleet_ingest.py", *sys.argv[1:]]),
        "machine": bl.machine(),
        "variants": [],
    }
    durable = {"fsync": "on", "synchronous_commit": "on"}
    pg = BenchPostgres()
    t_start = time.monotonic()
    try:
        pg.start_with(durable)
        result["postgres_version"] = pg.setting("server_version")
        log(f"PostgreSQL {result['postgres_version']} on port {pg.port}, pid {pg.pid}: {durable}")
        kw = {"seconds": args.seconds, "warmup": args.warmup}
        main_runs = []
        for lay in layouts:
            r = run_variant(pg, name=f"real {lay[0]}x{lay[1]} durable", layout=lay, **kw)
            main_runs.append(r)
            result["variants"].append(r)
        best = max(main_runs, key=lambda r: r["checks_per_s"])
        best_layout = tuple(int(x) for x in best["layout"].split("x"))
        result["best_layout"] = best["layout"]
        if not args.skip_variants:
            pg.start_with({"fsync": "on", "synchronous_commit": "off"})
            result["variants"].append(
                run_variant(pg, name=f"real {best['layout']} sync_commit=off", layout=best_layout, **kw)
            )
            pg.start_with({"fsync": "off", "synchronous_commit": "on"})
            result["variants"].append(
                run_variant(pg, name=f"real {best['layout']} fsync=off", layout=best_layout, **kw)
            )
        pg.start_with(durable)
        if not args.skip_variants:
            for label, script in (("pgbench-single-ac", PGBENCH_SINGLE),):
                result["variants"].append(
                    pgbench_variant(
                        pg, name=f"{label} durable", script=script, seconds=args.seconds, clients=args.agents
                    )
                )
        result["statements"] = [count_statements(pg)]
        for s in result["statements"]:
            log(f"statements per check, {s['write_path']}: {s['server_statements_by_kind_per_check']}")
    finally:
        signal.alarm(0)
        pg.destroy()
    result["elapsed_s"] = round(time.monotonic() - t_start, 1)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print("\n== fleet ingest (goal >= 5,000 checks/s) ==")
    for r in result["variants"]:
        print(
            f"{r['variant']:34} {r['checks_per_s']:>8,.0f}/s ({r['checks_per_s'] / 5000:.2f}x goal)  "
            f"CPU/check client {r['ms_cpu_per_check']['client']} ms, "
            f"pg {r['ms_cpu_per_check']['postgres']} ms, "
            f"kthreads {r['ms_cpu_per_check']['kernel_threads']} ms; "
            f"pg ceiling {r['pg_ceiling_checks_per_s']:,}/s; cores busy {r['cores_busy']} "
            f"(iowait {r['cpu_s']['iowait']}s, steal {r['cpu_s']['steal']}s, other {r['cpu_s']['other']}s)"
        )
    print(f"\nresults saved to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
