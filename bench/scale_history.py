"""History at scale on SQLite: 10 k, 1 M, 10 M checks at 1 s; latest-N and history latency; bytes per check.

Goals (issue 4): 30-day history p50 <= 50 ms at 1 s sampling, flat as rows grow (as fast as a
1-hour chart); a year at 1 s for one host fits in <= 500 MB with the default retention.

For each size it
  1. bulk-loads N checks of host "bench-loaded" (one disk "/", one service "httpd", 1 s apart,
     ending now) into a fresh SQLite database migrated by checkd (bench/bulk_load.py: DB-API
     executemany on checkd.models' tables, 250 k checks per transaction, synchronous=OFF on the
     loading connection only), and reports the load rate;
  2. builds the rollups with the real code: checkd.store.fold_new_checks in paced
     transactions (checkd.store.Pacer), exactly as Upkeep.fold does, for
     at most --fold-budget-s seconds, and reports its rate. If the budget runs out (it does at
     1 M and 10 M: every call scans the host's whole index, see the report), the rest is folded by
     a bench shortcut: one GROUP BY pass over 1-minute buckets (hours merged from minutes), written
     through checkd's own rollups._upsert (the same ON CONFLICT merge); its equivalence with the
     real fold is checked on the smallest fully folded size (max |diff|);
  3. measures, all sizes interleaved in one period so the noisy machine hits them alike:
     - in-process: store.list_checks(limit=100) and store.series() (30 d, 7 d, 1 h, 8 h) p50/p95;
     - through one real `checkd serve --database-url sqlite:///DB --interval 86400
       --host-name bench-server` per size (sampler not started: CHECKD_SAMPLER__AUTOSTART=false),
       with one keep-alive httpx client per server, p50/p95 of
         GET /api/v2/checks/latest?host=bench-loaded
         GET /api/v2/checks?host=bench-loaded&limit=100
         GET /api/v2/history/cpu_percent?host=bench-loaded&since=END-30d&until=END&points=500
         the same over 7 d (1-minute rollups; the same points at 1 M and 10 M), 1 h and 8 h
         (the widest range still answered from raw checks at points=500),
         and availability over 30 d.
       The server caches only reads about its own host; these name another host
       (host=bench-loaded, server host bench-server), so every request runs the real query;
     - bytes per check: (database file + WAL) after a TRUNCATE checkpoint / checks, and per table
       and index from SQLite's dbstat;
  4. estimates a year at 1 s for one host with the default retention (raw 30 d, 1-minute 180 d,
     1-hour 5 y) from the measured bytes per check (largest size) and bytes per rollup row (a
     2-day database whose rollups the real fold built entirely: --layout-checks);
  5. extras: the fold's SELECT at steady state as issued vs as a rowid range, the same with an
     index on checks (host_id, id) on a copy of the 1 M database (plans, bytes per check), and
     a bounded sample of checkd's Upkeep.prune on the largest database (run last).

Run (from the repository root; 8-12 minutes with 10 M on 2 cores):
    .venv/bin/python bench/scale_history.py [--sizes 10000,1000000,10000000] [--requests 200]
        [--fold-budget-s 60] [--workdir /tmp/checkd-scale-history] [--keep] [--reuse]
--keep keeps the databases; --reuse measures databases a previous --keep run built (their build
figures are reported from that run). A watchdog (--max-minutes, default 15) stops the run.
Results: stdout and bench/out/scale_history.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

import bulk_load as bl

ROOT = bl.ROOT
CHECKD = ROOT / ".venv" / "bin" / "checkd"
OUT = ROOT / "bench" / "out" / "scale_history.json"
LOADED_HOST = "bench-loaded"
SERVER_HOST = "bench-server"
DAY = 86400
YEAR_DAYS = 365


class Deadline(Exception):
    """The run's watchdog fired."""


def _on_alarm(_sig: int, _frame: FrameType | None) -> None:
    raise Deadline("watchdog: --max-minutes exceeded")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stats_ms(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(bl.percentile(samples, 50), 3),
        "p95_ms": round(bl.percentile(samples, 95), 3),
        "n": len(samples),
    }


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


# -- sizes on disk ----------------------------------------------------------------------------------
def checkpoint(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def db_sizes(db: Path) -> dict[str, Any]:
    """File sizes after a TRUNCATE checkpoint, dbstat bytes per table/index, row counts."""
    checkpoint(db)
    wal = db.with_name(db.name + "-wal")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        by_name = {
            name: {"bytes": int(b), "pages": int(p)}
            for name, b, p in con.execute("SELECT name, sum(pgsize), count(*) FROM dbstat GROUP BY name")
        }
        rows = {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("checks", "check_disks", "check_services")
        }
        tiers = dict(con.execute("SELECT tier, count(*) FROM rollups GROUP BY tier").fetchall())
        page_size = int(con.execute("PRAGMA page_size").fetchone()[0])
        freelist = int(con.execute("PRAGMA freelist_count").fetchone()[0])
    finally:
        con.close()
    file_bytes = db.stat().st_size
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    raw_names = ("checks", "ix_checks_host_taken", "check_disks", "check_services")
    raw_bytes = sum(by_name.get(n, {"bytes": 0})["bytes"] for n in raw_names)
    rollup_rows = int(sum(tiers.values()))
    rollup_bytes = by_name.get("rollups", {"bytes": 0})["bytes"]
    n = rows["checks"]
    return {
        "file_bytes": file_bytes,
        "wal_bytes": wal_bytes,
        "page_size": page_size,
        "freelist_pages": freelist,
        "rows": rows,
        "rollup_rows": {"minute": int(tiers.get(1, 0)), "hour": int(tiers.get(2, 0))},
        "dbstat": by_name,
        "bytes_per_check_file": round((file_bytes + wal_bytes) / n, 2) if n else None,
        "bytes_per_check_raw_tables": round(raw_bytes / n, 2) if n else None,
        "bytes_per_rollup_row": round(rollup_bytes / rollup_rows, 2) if rollup_rows else None,
    }


# -- rollups ---------------------------------------------------------------------------------------
def fold_real(url: str, budget_s: float) -> dict[str, Any]:
    """checkd.store.fold_new_checks in paced transactions as Upkeep.fold does, for at most `budget_s`."""
    from checkd import store
    from checkd.db import make_engine

    store.forget_ids()
    engine = make_engine(url)
    pacer = store.Pacer(start=5000)
    t0 = time.monotonic()
    try:
        folded = pacer.run(
            engine,
            lambda conn, batch: store.fold_new_checks(conn=conn, host=LOADED_HOST, batch=batch),
            stop=lambda: time.monotonic() - t0 >= budget_s,
        )
    finally:
        engine.dispose()
    wall = time.monotonic() - t0
    return {
        "batch": pacer.batch,
        "batches": pacer.transactions,
        "longest_transaction_s": round(pacer.longest_s, 3),
        "folded": folded,
        "seconds": round(wall, 2),
        "checks_per_s": round(folded / wall, 1) if wall else None,
        "batch_mean_s": round(wall / max(1, pacer.transactions), 3),
        "complete": wall < budget_s,
    }


_ONE_PASS = """
SELECT c.taken_at - c.taken_at % 60 AS b,
  min(c.cpu_pct), max(c.cpu_pct), sum(c.cpu_pct / {pct}), count(c.cpu_pct),
  min(c.mem_pct), max(c.mem_pct), sum(c.mem_pct / {pct}), count(c.mem_pct),
  min(c.load1), max(c.load1), sum(c.load1 / {load}), count(c.load1),
  min(d.pct), max(d.pct), sum(d.pct / {pct}), count(d.pct),
  min(s.av), max(s.av), sum(s.av), count(s.av)
FROM checks c
LEFT JOIN check_disks d ON d.check_id = c.id AND d.path_id = :pid
LEFT JOIN (SELECT check_id, CASE WHEN state = {active} THEN 100.0 ELSE 0.0 END AS av
           FROM check_services WHERE service_id = :sid) s ON s.check_id = c.id
WHERE c.host_id = :hid AND c.id > :start
GROUP BY b
"""


def fold_sql(url: str) -> dict[str, Any]:
    """Fold every check past the watermark in one SQL pass (a bench shortcut, not checkd's code).

    One GROUP BY over the checks (joined with the "/" disk and the httpd service) gives each
    1-minute bucket's min/max/total/count of the five metrics; 1-hour buckets are merged from
    those in Python; rows go in through checkd's own rollups._upsert (the same ON CONFLICT merge as
    fold_new_checks), and the watermark moves to the newest check."""
    from sqlalchemy import func, select, text

    from checkd import store
    from checkd.db import make_engine
    from checkd.models import LOAD_SCALE, PCT_SCALE, checks
    from checkd.store import dims
    from checkd.store.codec import STATE_CODE
    from checkd.store.rollups import HOUR, MINUTE, _set_watermark, _upsert

    store.forget_ids()
    engine = make_engine(url)
    t0 = time.monotonic()
    try:
        with engine.begin() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA temp_store=MEMORY")
            raw.execute("PRAGMA cache_size=-262144")
            hid = dims.host_id(conn=conn, name=LOADED_HOST, create=False)
            assert hid is not None
            start = store.watermark(conn=conn, host_id=hid)
            last = conn.execute(select(func.max(checks.c.id)).where(checks.c.host_id == hid)).scalar_one()
            names = ("cpu_percent", "mem_percent", "load1", "disk_percent:/", "availability:httpd")
            mids = [dims.metric_id(conn=conn, name=n) for n in names]
            scale = (PCT_SCALE, PCT_SCALE, LOAD_SCALE, PCT_SCALE, 1)
            sql = _ONE_PASS.format(pct=f"{PCT_SCALE}.0", load=f"{LOAD_SCALE}.0", active=STATE_CODE["active"])
            params = {
                "hid": hid,
                "start": start,
                "pid": dims.path_id(conn=conn, path="/"),
                "sid": dims.service_id(conn=conn, name="httpd"),
            }
            acc: dict[tuple[int, int, int], list[float]] = {}
            for row in conn.execute(text(sql), params):
                b = int(row[0])
                for k, mid in enumerate(mids):
                    lo, hi, total, count = row[1 + 4 * k : 5 + 4 * k]
                    if not count:
                        continue
                    lo, hi = lo / scale[k], hi / scale[k]
                    acc[(MINUTE, mid, b)] = [lo, hi, total, count]  # type: ignore[index]
                    h = acc.get((HOUR, mid, b - b % 3600))  # type: ignore[index]
                    if h is None:
                        acc[(HOUR, mid, b - b % 3600)] = [lo, hi, total, count]  # type: ignore[index]
                    else:
                        h[0], h[1] = min(h[0], lo), max(h[1], hi)
                        h[2] += total
                        h[3] += count
            _upsert(conn, hid, acc)  # type: ignore[arg-type]
            if last is not None and last > start:
                _set_watermark(conn, hid, int(last))
                # As the real fold does: hosts.checks_count counts the folded checks.
                conn.execute(
                    text(
                        "UPDATE hosts SET checks_count = checks_count + (SELECT count(*) FROM checks"
                        " WHERE host_id = :hid AND id > :start AND id <= :last) WHERE id = :hid"
                    ),
                    {"hid": hid, "start": start, "last": int(last)},
                )
    finally:
        engine.dispose()
    return {"seconds": round(time.monotonic() - t0, 2), "from_check_id": start}


def compare_rollups(a: Path, b: Path) -> dict[str, Any]:
    """Rows only in one of the two databases' rollups, and max |difference| of min/max/total/count."""
    con = sqlite3.connect(a)
    try:
        con.execute("ATTACH DATABASE ? AS other", (str(b),))
        rows = con.execute(
            "SELECT count(*), max(abs(x.min - y.min)), max(abs(x.max - y.max)), "
            "max(abs(x.total - y.total)), max(abs(x.count - y.count)) FROM rollups x "
            "JOIN other.rollups y USING (tier, host_id, metric_id, bucket)"
        ).fetchone()
        keys = "SELECT tier, host_id, metric_id, bucket FROM"
        only_a = con.execute(f"SELECT count(*) FROM ({keys} rollups EXCEPT {keys} other.rollups)").fetchone()[
            0
        ]
        only_b = con.execute(f"SELECT count(*) FROM ({keys} other.rollups EXCEPT {keys} rollups)").fetchone()[
            0
        ]
    finally:
        con.close()
    return {
        "rows_matched": rows[0],
        "max_abs_diff": {"min": rows[1], "max": rows[2], "total": rows[3], "count": rows[4]},
        "rows_only_in_real": only_a,
        "rows_only_in_sql": only_b,
    }


def fold_cost(db: Path, rounds: int = 3, new_checks: int = 60) -> dict[str, Any]:
    """The real `store.fold_new_checks` at steady state: `new_checks` checks (a minute at 1 s, one
    Upkeep interval) written through CheckWriter after the newest one, then one timed fold; per
    round. Also the plan of the fold's SELECT of new checks (the SQLite statement it runs)."""
    import dataclasses

    from checkd import store
    from checkd.db import make_engine
    from checkd.store import rollups

    store.forget_ids()
    engine = make_engine(f"sqlite:///{db}")
    times: list[float] = []
    try:
        with engine.connect() as conn:
            newest = store.list_checks(conn=conn, host=LOADED_HOST, limit=1)[0]
        writer = store.CheckWriter(engine=engine, host=LOADED_HOST)
        for r in range(rounds):
            base = newest.taken_at + 1 + r * new_checks
            batch = [
                dataclasses.replace(newest, id=None, taken_at=base + i, disks=list(newest.disks))
                for i in range(new_checks)
            ]
            writer.write(batch)
            t0 = time.perf_counter()
            with engine.begin() as conn:
                folded = store.fold_new_checks(conn=conn, host=LOADED_HOST)
            times.append((time.perf_counter() - t0) * 1000)
            assert folded == new_checks, (folded, new_checks)
        writer.close()
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            args = (1, int(newest.taken_at) - 3600, newest.id, 5000)
            plan = " / ".join(
                r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + rollups._SQLITE_NEW_CHECKS, args)
            )
    finally:
        engine.dispose()
        store.forget_ids()
    return {"new_checks": new_checks, "plan": plan, **stats_ms(times)}


# -- build -----------------------------------------------------------------------------------------
def build(db: Path, n: int, fold_budget_s: float, reuse: bool) -> dict[str, Any]:
    marker = db.with_suffix(".built.json")
    if reuse and marker.exists() and db.exists():
        log(f"{human(n)}: reusing {db} (build figures from {marker.name})")
        return {**json.loads(marker.read_text()), "reused": True}
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), marker):
        p.unlink(missing_ok=True)
    log(f"{human(n)}: bulk loading {n:,} checks into {db}")
    last_print = [0.0]

    def progress(done: int, total: int, secs: float) -> None:
        if secs - last_print[0] >= 15 or done == total:
            last_print[0] = secs
            log(f"  {done:,}/{total:,} checks, {secs:.0f}s, {done / secs:,.0f}/s")

    res = bl.bulk_load(db, n, host=LOADED_HOST, progress=progress)
    load = {
        "checks": res.checks,
        "seconds": round(res.seconds, 2),
        "checks_per_s": round(res.rate),
        "rows_per_s": round(res.rate * 3),
        "first_taken_at": res.first_taken_at,
        "last_taken_at": res.last_taken_at,
    }
    log(
        f"{human(n)}: loaded in {res.seconds:.1f}s ({res.rate:,.0f} checks/s, each with a disk and a service)"
    )
    before = db_sizes(db)
    url = f"sqlite:///{db}"
    log(f"{human(n)}: folding rollups with store.fold_new_checks (budget {fold_budget_s:.0f}s)")
    real = fold_real(url, fold_budget_s)
    log(
        f"{human(n)}: real fold {real['folded']:,} checks in {real['seconds']}s = {real['checks_per_s']}/s, "
        f"batch mean {real['batch_mean_s']}s, complete={real['complete']}"
    )
    fold: dict[str, Any] = {"real": real}
    if not real["complete"]:
        remaining_batches = (n - real["folded"]) / real["batch"]
        fold["real_extrapolated_total_s"] = round(real["seconds"] + remaining_batches * real["batch_mean_s"])
        log(f"{human(n)}: real fold would need ~{fold['real_extrapolated_total_s']}s; SQL fold of the rest")
        fold["sql_rest"] = fold_sql(url)
        log(f"{human(n)}: SQL fold of the rest took {fold['sql_rest']['seconds']}s")
    built = {"n": n, "load": load, "fold": fold, "sizes_before_rollups": before, "built_at": bl.machine()}
    marker.write_text(json.dumps(built, indent=2, default=str))
    return built


def rollup_layout(workdir: Path, checks: int, budget_s: float) -> dict[str, Any]:
    """Bytes per rollup row as the real fold lays rollups out: `checks` checks folded entirely by
    fold_new_checks (it inserts at the end of each (tier, metric) key range, splitting pages in the
    middle of the B-tree; the SQL shortcut appends each range in key order and packs pages densely)."""
    db = workdir / "layout.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    bl.bulk_load(db, checks, host=LOADED_HOST)
    real = fold_real(f"sqlite:///{db}", budget_s)
    sizes = db_sizes(db)
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    return {
        "checks": checks,
        "fold": real,
        "rollup_rows": sizes["rollup_rows"],
        "rollup_bytes": sizes["dbstat"].get("rollups", {}).get("bytes"),
        "bytes_per_rollup_row": sizes["bytes_per_rollup_row"],
        "bytes_per_check_raw_tables": sizes["bytes_per_check_raw_tables"],
    }


def index_experiment(db: Path, workdir: Path) -> dict[str, Any]:
    """On a copy of `db`: the fold's SELECT with an extra index on checks (host_id, id), its bytes per
    check, and the plans of the other check queries with it (they must keep ix_checks_host_taken)."""
    copy = workdir / "index-experiment.db"
    checkpoint(db)
    shutil.copyfile(db, copy)
    con = sqlite3.connect(copy)
    try:
        t0 = time.monotonic()
        con.execute("CREATE INDEX ix_checks_host_id ON checks (host_id, id)")
        con.commit()
        build_s = time.monotonic() - t0
        n = con.execute("SELECT count(*) FROM checks").fetchone()[0]
        idx_bytes = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'ix_checks_host_id'").fetchone()[
            0
        ]
        hid, last = con.execute("SELECT host_id, max(id) FROM checks GROUP BY host_id LIMIT 1").fetchone()
        queries = {
            "fold_select": (
                "SELECT id, taken_at, cpu_pct, mem_pct, load1 FROM checks WHERE host_id = ? AND id > ? "
                "ORDER BY id LIMIT 5000",
                (hid, last - 10),
            ),
            "list_checks": (
                "SELECT id FROM checks WHERE host_id = ? ORDER BY taken_at DESC, id DESC LIMIT 100",
                (hid,),
            ),
            "raw_history": (
                "SELECT taken_at / 8 * 8 AS t, min(cpu_pct) FROM checks WHERE host_id = ? "
                "AND taken_at BETWEEN ? AND ? GROUP BY t ORDER BY t",
                (hid, 0, 2**40),
            ),
            "delete_before": (
                "SELECT id FROM checks WHERE host_id = ? AND taken_at < ? AND id <= ? "
                "ORDER BY taken_at LIMIT 5000",
                (hid, 0, last),
            ),
        }
        plans = {
            k: " / ".join(r[3] for r in con.execute("EXPLAIN QUERY PLAN " + q, a))
            for k, (q, a) in queries.items()
        }
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            con.execute(*queries["fold_select"]).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        con.close()
        for p in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
            p.unlink(missing_ok=True)
    return {
        "checks": n,
        "create_index_s": round(build_s, 2),
        "index_bytes_per_check": round(idx_bytes / n, 2),
        "fold_select_steady_state": stats_ms(times),
        "plans": plans,
    }


def prune_sample(db: Path, end: int, seconds: float) -> dict[str, Any]:
    """checkd's own Upkeep.prune (default retention, clock = the newest check) for `seconds`:
    how fast raw checks past 30 days are deleted. Destructive: run last."""
    import threading

    from checkd import store
    from checkd.config import RetentionSettings
    from checkd.db import make_engine
    from checkd.upkeep import Upkeep

    store.forget_ids()
    engine = make_engine(f"sqlite:///{db}")
    r = Upkeep(engine=engine, host=LOADED_HOST, retention=RetentionSettings(), clock=lambda: end)
    timer = threading.Timer(seconds, r.stop)
    timer.start()
    t0 = time.monotonic()
    try:
        deleted = r.prune()
    finally:
        timer.cancel()
        engine.dispose()
    wall = time.monotonic() - t0
    return {"deleted_rows": deleted, "seconds": round(wall, 1), "checks_per_s": round(deleted / wall)}


def check_sql_fold(db: Path, workdir: Path) -> dict[str, Any]:
    """Refold a fully real-folded database with fold_sql and compare the rollups."""
    copy = workdir / "equivalence.db"
    for p in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        p.unlink(missing_ok=True)
    checkpoint(db)
    shutil.copyfile(db, copy)
    con = sqlite3.connect(copy)
    con.execute("DELETE FROM rollups")
    con.execute("DELETE FROM rollup_progress")
    con.commit()
    con.close()
    fold_sql(f"sqlite:///{copy}")
    checkpoint(copy)
    result = compare_rollups(db, copy)
    for p in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        p.unlink(missing_ok=True)
    return result


# -- measure ---------------------------------------------------------------------------------------
def ranges(end: int) -> dict[str, tuple[int, int]]:
    # 7d: the same number of points at 1 M (11.6 days of data) and 10 M (116 days), unlike 30d
    return {
        "30d": (end - 30 * DAY, end),
        "7d": (end - 7 * DAY, end),
        "1h": (end - 3600, end),
        "8h": (end - 8 * 3600, end),
    }


def in_process(db: Path, end: int, runs: int) -> dict[str, Any]:
    """store.list_checks / store.series / store.host_summaries in-process, and the SQL they issue."""
    from sqlalchemy import event

    from checkd import store
    from checkd.config import RetentionSettings
    from checkd.db import make_engine

    store.forget_ids()
    engine = make_engine(f"sqlite:///{db}")
    keep = RetentionSettings()
    retentions = store.Retentions(raw=keep.seconds("raw"), minute=keep.seconds("minute"))
    issued: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        issued.append((statement, parameters))

    calls: dict[str, Callable[[Any], object]] = {
        "list_checks_100": lambda c: store.list_checks(conn=c, host=LOADED_HOST, limit=100),
    }
    for label, (t0, t1) in ranges(end).items():
        calls[f"series_cpu_{label}"] = lambda c, t0=t0, t1=t1: store.series(
            conn=c, host=LOADED_HOST, metric="cpu_percent", qualifier=None, since=t0, until=t1,
            points=500, now=end, keep=retentions,
        )  # fmt: skip
    out: dict[str, Any] = {}
    plans: dict[str, list[str]] = {}
    try:
        with engine.connect() as conn:
            for name, call in calls.items():
                for _ in range(5):
                    call(conn)  # warm-up (page cache, id caches)
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    call(conn)
                    times.append((time.perf_counter() - t0) * 1000)
                out[name] = stats_ms(times)
                issued.clear()
                event.listen(engine, "before_cursor_execute", capture)
                call(conn)
                event.remove(engine, "before_cursor_execute", capture)
                raw = conn.connection.dbapi_connection
                plans[name] = []
                for stmt, params in issued:
                    if stmt.lstrip().upper().startswith("SELECT"):
                        rows = raw.execute("EXPLAIN QUERY PLAN " + stmt, params).fetchall()  # type: ignore[union-attr]
                        plans[name].append(" / ".join(r[3] for r in rows))
            t0 = time.perf_counter()
            store.host_summaries(conn=conn)
            out["host_summaries_once"] = {"ms": round((time.perf_counter() - t0) * 1000, 1)}
    finally:
        engine.dispose()
    out["plans"] = plans
    return out


class Server:
    """One `checkd serve` on a database, sampler not started, stopped by pid."""

    def __init__(self, db: Path, workdir: Path) -> None:
        self.port = bl.free_port()
        self.dir = workdir / f"server-{db.stem}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "checkd.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKD_")}
        env["CHECKD_SAMPLER__AUTOSTART"] = "false"
        self.argv = [
            str(CHECKD), "serve", "--data-dir", str(self.dir), "--database-url", f"sqlite:///{db}",
            "--port", str(self.port), "--interval", "86400", "--host-name", SERVER_HOST,
        ]  # fmt: skip
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(
                self.argv, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=self.dir
            )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"checkd exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"checkd on port {self.port} not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.client.close()
        bl.stop_process(self.proc)


def http_paths(end: int) -> dict[str, str]:
    h = f"host={LOADED_HOST}"
    paths = {
        "latest": f"/api/v2/checks/latest?{h}",
        "checks_limit100": f"/api/v2/checks?{h}&limit=100",
    }
    for label, (t0, t1) in ranges(end).items():
        paths[f"history_cpu_{label}"] = (
            f"/api/v2/history/cpu_percent?{h}&since={iso(t0)}&until={iso(t1)}&points=500"
        )
    t0, t1 = ranges(end)["30d"]
    paths["history_availability_30d"] = (
        f"/api/v2/history/availability?{h}&service=httpd&since={iso(t0)}&until={iso(t1)}&points=500"
    )
    return paths


def measure_http(servers: dict[int, Server], ends: dict[int, int], requests: int) -> dict[int, Any]:
    """Every path on every server, interleaved (round-robin over sizes, order flipped each round)."""
    paths = {n: http_paths(ends[n]) for n in servers}
    kinds = list(next(iter(paths.values())))
    samples: dict[int, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in servers}
    shape: dict[int, dict[str, Any]] = {n: {} for n in servers}
    sizes = list(servers)
    for kind in kinds:
        for n in sizes:  # warm-up, and what the answer looks like
            for _ in range(10):
                r = servers[n].client.get(paths[n][kind])
            if r.status_code != 200:
                raise RuntimeError(f"{human(n)} {paths[n][kind]}: {r.status_code} {r.text[:300]}")
            body = r.json()
            if "points" in body:
                shape[n][kind] = {"resolution_s": body["resolution_s"], "points": len(body["points"])}
            elif "items" in body:
                shape[n][kind] = {"items": len(body["items"])}
            else:
                shape[n][kind] = {"id": body.get("id")}
    for i in range(requests):
        for kind in kinds:
            for n in sizes if i % 2 == 0 else sizes[::-1]:
                t0 = time.perf_counter()
                r = servers[n].client.get(paths[n][kind])
                samples[n][kind].append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"{paths[n][kind]}: {r.status_code}")
    return {
        n: {
            "paths": paths[n],
            **{k: {**stats_ms(v), **shape[n][k]} for k, v in samples[n].items()},
        }
        for n in servers
    }


# -- year estimate ---------------------------------------------------------------------------------
def year_estimate(bytes_per_check: float, bytes_per_rollup_row: float, metrics: int) -> dict[str, Any]:
    """Steady state after a year at 1 s with raw 30 d, 1-minute 180 d, 1-hour 5 y (so: a whole year)."""
    from checkd.config import RetentionSettings

    keep = RetentionSettings()
    raw_days = keep.seconds("raw") / DAY
    minute_days = min(keep.seconds("minute") / DAY, YEAR_DAYS)
    hour_days = min(keep.seconds("hour") / DAY, YEAR_DAYS)
    raw_rows = raw_days * DAY
    minute_rows = minute_days * 1440 * metrics
    hour_rows = hour_days * 24 * metrics
    raw_b = raw_rows * bytes_per_check
    minute_b = minute_rows * bytes_per_rollup_row
    hour_b = hour_rows * bytes_per_rollup_row
    total = raw_b + minute_b + hour_b
    return {
        "retention_days": {"raw": raw_days, "minute": minute_days, "hour": hour_days},
        "metrics_per_bucket": metrics,
        "rows": {
            "raw_checks": int(raw_rows),
            "minute_rollups": int(minute_rows),
            "hour_rollups": int(hour_rows),
        },
        "bytes": {"raw": int(raw_b), "minute": int(minute_b), "hour": int(hour_b), "total": int(total)},
        "total_mb": round(total / 1e6, 1),
        "total_mib": round(total / 2**20, 1),
        "goal_mb": 500,
        "ratio_vs_goal": round(total / 500e6, 3),
    }


# -- main ------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,1000000,10000000")
    ap.add_argument("--requests", type=int, default=200, help="timed HTTP requests per path and size")
    ap.add_argument("--runs", type=int, default=100, help="timed in-process calls per function and size")
    ap.add_argument("--fold-budget-s", type=float, default=60.0)
    ap.add_argument("--layout-checks", type=int, default=2 * DAY, help="checks for the rollup layout step")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/checkd-scale-history"))
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    ap.add_argument("--reuse", action="store_true", help="reuse databases a --keep run built")
    ap.add_argument("--prune-s", type=float, default=20.0, help="seconds of the (last) prune sample")
    ap.add_argument("--max-minutes", type=float, default=15.0)
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(args.max_minutes * 60))
    t_start = time.monotonic()
    args.workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "benchmark": "scale_history",
        "command": " ".join([".venv/bin/python", "bench/scale_history.py", *sys.argv[1:]]),
        "machine": bl.machine(),
        "sizes": {},
    }
    servers: dict[int, Server] = {}
    dbs = {n: args.workdir / f"checks_{n}.db" for n in sizes}
    try:
        for n in sizes:
            result["sizes"][n] = {"build": build(dbs[n], n, args.fold_budget_s, args.reuse)}
        log(f"rollup layout: {args.layout_checks:,} checks folded entirely by the real fold")
        result["rollup_layout"] = rollup_layout(args.workdir, args.layout_checks, 300)
        log(f"  {result['rollup_layout']['bytes_per_rollup_row']} B/rollup row")
        complete = [n for n in sizes if result["sizes"][n]["build"]["fold"]["real"]["complete"]]
        if complete:
            log(f"checking the SQL fold against the real fold on {human(complete[0])}")
            result["sql_fold_equivalence"] = {
                "size": complete[0],
                **check_sql_fold(dbs[complete[0]], args.workdir),
            }
            log(f"  {result['sql_fold_equivalence']}")
        ends: dict[int, int] = {}
        for n in sizes:
            con = sqlite3.connect(f"file:{dbs[n]}?mode=ro", uri=True)
            ends[n] = int(con.execute("SELECT max(taken_at) FROM checks").fetchone()[0])
            con.close()
            result["sizes"][n]["sizes_with_rollups"] = db_sizes(dbs[n])
            result["sizes"][n]["fold_steady_state"] = fold_cost(dbs[n])
            log(f"{human(n)}: in-process latencies")
            result["sizes"][n]["in_process"] = in_process(dbs[n], ends[n], args.runs)
        log("starting one checkd serve per size")
        for n in sizes:
            servers[n] = Server(dbs[n], args.workdir)
        for s in servers.values():
            s.wait_ready()
        for n, s in servers.items():
            result["sizes"][n]["server_sampler"] = s.client.get("/api/v2/sampler").json()
        log(f"HTTP: {args.requests} timed requests per path and size, interleaved")
        http = measure_http(servers, ends, args.requests)
        for n in sizes:
            result["sizes"][n]["http"] = http[n]
        for srv in servers.values():
            srv.stop()
        servers.clear()
        mid = [n for n in sizes if n >= 100_000]
        if mid:
            log(f"index experiment: checks (host_id, id) on a copy of {human(mid[0])}")
            result["index_experiment"] = {"size": mid[0], **index_experiment(dbs[mid[0]], args.workdir)}
            log(f"  {result['index_experiment']}")
        largest = sizes[-1]
        log(f"prune sample: Upkeep.prune on {human(largest)} for {args.prune_s:.0f}s")
        dbs[largest].with_suffix(".built.json").unlink(missing_ok=True)  # pruned: not reusable
        result["prune_sample"] = {"size": largest, **prune_sample(dbs[largest], ends[largest], args.prune_s)}
        log(f"  {result['prune_sample']}")
    finally:
        for s in servers.values():
            s.stop()
        signal.alarm(0)
    # the estimate: bytes per check (raw tables and their index) from the largest size; bytes per
    # rollup row as the real fold lays them out (rollup_layout), or the largest size's if larger
    largest = sizes[-1]
    per_check = result["sizes"][largest]["sizes_with_rollups"]["bytes_per_check_raw_tables"]
    per_rollup_layout = result["rollup_layout"]["bytes_per_rollup_row"]
    per_rollup_largest = result["sizes"][largest]["sizes_with_rollups"]["bytes_per_rollup_row"]
    used = max(per_rollup_layout, per_rollup_largest)
    est = year_estimate(per_check, used, metrics=5)
    est["bytes_per_check_from_size"] = largest
    est["bytes_per_rollup_row_from"] = {
        "real_fold_layout": per_rollup_layout, "largest_size": per_rollup_largest, "used": used,
    }  # fmt: skip
    result["year_estimate"] = est
    result["elapsed_s"] = round(time.monotonic() - t_start, 1)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, default=str) + "\n")
    summarize(result, sizes)
    print(f"\nresults saved to {OUT.relative_to(ROOT)}")
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


def summarize(result: dict[str, Any], sizes: list[int]) -> None:
    print("\n== load and fold ==")
    for n in sizes:
        b = result["sizes"][n]["build"]
        real = b["fold"]["real"]
        total = b["fold"].get("real_extrapolated_total_s", real["seconds"])
        print(
            f"{human(n):>4}: load {b['load']['seconds']}s = {b['load']['checks_per_s']:,} checks/s; "
            f"real fold {real['checks_per_s']} checks/s (batch mean {real['batch_mean_s']}s, "
            f"complete={real['complete']}, est. total {total}s)"
        )
    print("\n== HTTP p50 / p95 ms ==")
    kinds = list(result["sizes"][sizes[0]]["http"]["paths"])
    print(f"{'':28}" + "".join(f"{human(n):>20}" for n in sizes))
    for k in kinds:
        cells = [result["sizes"][n]["http"][k] for n in sizes]
        print(f"{k:28}" + "".join(f"{c['p50_ms']:>10.2f} /{c['p95_ms']:>7.2f}" for c in cells))
    print("\n== in-process p50 ms ==")
    for k in ("list_checks_100", "series_cpu_30d", "series_cpu_1h", "series_cpu_8h"):
        cells = [result["sizes"][n]["in_process"][k]["p50_ms"] for n in sizes]
        print(f"{k:28}" + "".join(f"{c:>20.2f}" for c in cells))
    cells = [result["sizes"][n]["in_process"]["host_summaries_once"]["ms"] for n in sizes]
    print(f"{'host_summaries (once)':28}" + "".join(f"{c:>20.1f}" for c in cells))
    print("\n== store.fold_new_checks at steady state (60 new checks), p50 ms ==")
    cells = [result["sizes"][n]["fold_steady_state"]["p50_ms"] for n in sizes]
    print(f"{'fold_new_checks':28}" + "".join(f"{c:>20.2f}" for c in cells))
    print(f"plan: {result['sizes'][sizes[-1]]['fold_steady_state']['plan']}")
    print("\n== bytes ==")
    for n in sizes:
        s = result["sizes"][n]["sizes_with_rollups"]
        print(
            f"{human(n):>4}: file {s['file_bytes'] / 1e6:.1f} MB, {s['bytes_per_check_file']} B/check (file);"
            " "
            f"{s['bytes_per_check_raw_tables']} B/check (raw tables+index); "
            f"{s['bytes_per_rollup_row']} B/rollup row ({s['rollup_rows']})"
        )
    lay = result["rollup_layout"]
    print(
        f"rollup layout (real fold of {lay['checks']:,} checks): {lay['bytes_per_rollup_row']} B/rollup row"
    )
    if "index_experiment" in result:
        ix = result["index_experiment"]
        print(
            f"index (host_id, id) on {human(ix['size'])}: +{ix['index_bytes_per_check']} B/check, "
            "fold SELECT "
            f"p50 {ix['fold_select_steady_state']['p50_ms']} ms; plans {ix['plans']}"
        )
    if "prune_sample" in result:
        print(f"prune sample: {result['prune_sample']}")
    e = result["year_estimate"]
    print(f"\nyear at 1 s, default retention: {e['total_mb']} MB ({e['ratio_vs_goal']} x the 500 MB goal)")
    print(f"  {e['bytes']}")


if __name__ == "__main__":
    raise SystemExit(main())
