"""Fast bulk load of synthetic checks into a SQLite checkd database (a helper, not a benchmark).

The schema comes from checkd's own Alembic migrations; rows go into checkd.models' tables
(`checks`, `check_disks`, `check_services`) with the DB-API `executemany` on INSERT statements
compiled from those tables, fed by generators, in big transactions (`chunk` checks each), with
`PRAGMA synchronous=OFF` on the loading connection only (the connection is closed afterwards, so
checkd's own connections keep synchronous=NORMAL). One check per second, ending now, one disk
("/") and `services` services ("httpd", svc01, ...) per check. Values vary like real ones (drawn
from fixed pseudo-random pools) so the integer encodings have realistic sizes on disk.

It also holds the few helpers bench/scale_history.py and bench/fleet_ingest.py share (machine
description, percentiles, starting/stopping a process by pid), so they do not depend on
bench/_common.py. Run alone for a quick check:
    .venv/bin/python bench/bulk_load.py /tmp/x.db 100000
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

MEM_TOTAL_KIB = 24_684_096
DISK_TOTAL_KIB = 264_211_888
# Pool sizes are distinct primes, so the combination of values repeats only after a very long time.
_POOLS = (100_003, 100_019, 100_043, 100_049, 100_057)


# -- shared helpers: the machine, percentiles, ports and processes come from _common -------------
from _common import free_port, machine, stop_process  # noqa: E402  (re-exported)
from _common import pct_of as percentile  # noqa: E402

__all__ = ["free_port", "machine", "percentile", "stop_process"]


def proc_cpu_s(pid: int) -> float:
    """utime+stime of `pid` in seconds (its dead threads included; children not)."""
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- bulk load -------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    """What a bulk load did."""

    checks: int
    seconds: float
    first_taken_at: int
    last_taken_at: int

    @property
    def rate(self) -> float:
        """Checks (each with its disk and service rows) per second."""
        return self.checks / self.seconds if self.seconds else float("nan")


def _compiled_insert(table: object) -> tuple[str, list[str]]:
    """`INSERT INTO <table> (cols) VALUES (?, ...)` compiled from the model, and its column order."""
    from sqlalchemy import insert
    from sqlalchemy.dialects import sqlite

    cols = [c.name for c in table.columns]  # type: ignore[attr-defined]
    stmt = insert(table).values({c: None for c in cols})  # type: ignore[arg-type]
    compiled = stmt.compile(dialect=sqlite.dialect())
    sql = str(compiled)
    order = list(compiled.positiontup or cols)
    return sql, order


def bulk_load(
    db_path: Path,
    n: int,
    *,
    host: str,
    services: int = 1,
    chunk: int = 250_000,
    end_at: int | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> LoadResult:
    """Migrate `db_path` with checkd's migrations and load `n` checks of `host`, 1 s apart, ending at
    `end_at` (default now). Returns counts and the wall time (migration included)."""
    from sqlalchemy import func as sa_func
    from sqlalchemy import select

    from checkd import store
    from checkd.db import make_engine, migrate
    from checkd.models import check_disks, check_services, checks
    from checkd.store import codec

    t0 = time.monotonic()
    url = f"sqlite:///{db_path}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        hid = store.host_id(conn=conn, name=host)
        pid = store.dims.path_id(conn=conn, path="/")
        names = ["httpd"] + [f"svc{i:02d}" for i in range(1, services)]
        sids = [store.dims.service_id(conn=conn, name=name) for name in names]
        next_id = int(conn.execute(select(sa_func.coalesce(sa_func.max(checks.c.id), 0))).scalar_one()) + 1
    engine.dispose()

    check_sql, check_cols = _compiled_insert(checks)
    disk_sql, disk_cols = _compiled_insert(check_disks)
    svc_sql, svc_cols = _compiled_insert(check_services)

    rng = random.Random(42)
    cpu_pool = [
        rng.randint(0, 10_000) if rng.random() < 0.3 else rng.randint(0, 2_500) for _ in range(_POOLS[0])
    ]
    avail_pool = [MEM_TOTAL_KIB - rng.randint(400_000, 6_000_000) for _ in range(_POOLS[1])]
    used_pool = [rng.randint(1_500_000, 5_000_000) for _ in range(_POOLS[2])]
    load_pool = [rng.randint(0, 400) for _ in range(_POOLS[3])]
    state_pool = [1 if rng.random() < 0.97 else rng.choice((0, 2)) for _ in range(_POOLS[4])]
    end = int(time.time()) if end_at is None else end_at
    start_t = end - n + 1

    # Rows are built as tuples in the compiled statements' column order (checked here), not dicts:
    # row building is most of the load's CPU time.
    assert check_cols == ["id", "host_id", *codec.CHECK_COLUMNS], check_cols
    assert disk_cols == ["check_id", "path_id", *codec.DISK_COLUMNS], disk_cols
    assert svc_cols == ["check_id", "service_id", "state"], svc_cols

    def check_rows(lo: int, hi: int) -> Iterator[tuple[object, ...]]:
        p0, p1, p2, p3 = _POOLS[:4]
        for i in range(lo, hi):
            avail = avail_pool[i % p1]
            load1 = load_pool[i % p3]
            yield (
                next_id + i,
                hid,
                start_t + i,
                cpu_pool[i % p0],
                load1,
                max(0, load1 - load_pool[(i + 7) % p3] // 8),
                max(0, load1 - load_pool[(i + 13) % p3] // 5),
                MEM_TOTAL_KIB,
                avail,
                used_pool[i % p2],
                round(10_000 * (MEM_TOTAL_KIB - avail) / MEM_TOTAL_KIB),
            )

    def disk_rows(lo: int, hi: int) -> Iterator[tuple[object, ...]]:
        for i in range(lo, hi):
            used = 23_810_000 + i // 100  # grows slowly, as a real disk does
            free = DISK_TOTAL_KIB - used - 13_000_000
            yield (next_id + i, pid, DISK_TOTAL_KIB, used, free, round(10_000 * used / (used + free)))

    def svc_rows(lo: int, hi: int) -> Iterator[tuple[object, ...]]:
        p4 = _POOLS[4]
        for i in range(lo, hi):
            for k, sid in enumerate(sids):
                yield (next_id + i, sid, state_pool[(i + 31 * k) % p4])

    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")  # as checkd opens it
        con.execute("PRAGMA synchronous=OFF")  # this loading connection only
        con.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache while loading
        done = 0
        while done < n:
            hi = min(n, done + chunk)
            con.execute("BEGIN")
            con.executemany(check_sql, check_rows(done, hi))
            con.executemany(disk_sql, disk_rows(done, hi))
            con.executemany(svc_sql, svc_rows(done, hi))
            con.execute("COMMIT")
            done = hi
            if progress is not None:
                progress(done, n, time.monotonic() - t0)
        # hosts.checks_count is not touched: it counts folded checks, and the fold adds to it.
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return LoadResult(n, time.monotonic() - t0, start_t, end)


if __name__ == "__main__":
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    res = bulk_load(path, count, host="bench-loaded", progress=lambda d, n, s: print(f"{d}/{n} {s:.1f}s"))
    print(f"{res.checks} checks in {res.seconds:.1f}s = {res.rate:,.0f} checks/s")
