"""Bulk loader for the benchmarks: N realistic checks of one host into a fresh SQLite file, fast.

It migrates with checkd's own Alembic revisions and inserts through statements compiled from
checkd's models, so the rows and indexes are the ones checkd writes (no rollups: the callers
fold with checkd's upkeep)."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import HOST_NAME

MEM_TOTAL_KIB = 24_684_096
DISK_TOTAL_KIB = 264_211_888
# Pool sizes are distinct primes, so the combination of values repeats only after a very long time.
_POOLS = (100_003, 100_019, 100_043, 100_049, 100_057)


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


def _compiled_insert(table: Any) -> tuple[str, list[str]]:
    """`INSERT INTO <table> (cols) VALUES (?, ...)` compiled from the model, and its column order."""
    from sqlalchemy import insert
    from sqlalchemy.dialects import sqlite

    cols = [c.name for c in table.columns]
    compiled = insert(table).values({c: None for c in cols}).compile(dialect=sqlite.dialect())
    return str(compiled), list(compiled.positiontup or cols)


def bulk_load(
    db: Path,
    n: int,
    *,
    host: str = HOST_NAME,
    services: int = 1,
    chunk: int = 250_000,
    progress: Callable[[int, int, float], None] | None = None,
    end_at: int | None = None,
) -> LoadResult:
    """Migrate `db` with checkd's migrations and load `n` checks of `host`, 1 s apart, ending now
    (or at `end_at`, Unix seconds).

    Rows go into checkd.models' tables through DB-API `executemany` on INSERTs compiled from those
    tables, `chunk` checks per transaction, `synchronous=OFF` on this loading connection only. Each
    check has one disk ("/") and `services` services ("httpd", svc01, ...); values come from fixed
    pseudo-random pools so the integer encodings have realistic sizes. Nothing is folded into
    rollups: checkd's own upkeep does that. Returns counts and the wall time, migration included.
    """
    from sqlalchemy import func, select

    from checkd import store
    from checkd.db import make_engine, migrate
    from checkd.models import check_disks, check_services, checks
    from checkd.store import codec, dims

    t0 = time.monotonic()
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with engine.begin() as conn:
        hid = store.host_id(conn=conn, name=host)
        pid = dims.path_id(conn=conn, path="/")
        names = ["httpd"] + [f"svc{i:02d}" for i in range(1, services)]
        sids = [dims.service_id(conn=conn, name=name) for name in names]
        next_id = int(conn.execute(select(func.coalesce(func.max(checks.c.id), 0))).scalar_one()) + 1
    engine.dispose()

    check_sql, check_cols = _compiled_insert(checks)
    disk_sql, disk_cols = _compiled_insert(check_disks)
    svc_sql, svc_cols = _compiled_insert(check_services)
    # Rows are built as tuples in the compiled statements' column order (checked here), not dicts:
    # row building is most of the load's CPU time.
    assert check_cols == ["id", "host_id", *codec.CHECK_COLUMNS], check_cols
    assert disk_cols == ["check_id", "path_id", *codec.DISK_COLUMNS], disk_cols
    assert svc_cols == ["check_id", "service_id", "state"], svc_cols

    rng = random.Random(42)
    p0, p1, p2, p3, p4 = _POOLS
    cpu = [rng.randint(0, 10_000) if rng.random() < 0.3 else rng.randint(0, 2_500) for _ in range(p0)]
    avail_pool = [MEM_TOTAL_KIB - rng.randint(400_000, 6_000_000) for _ in range(p1)]
    used_pool = [rng.randint(1_500_000, 5_000_000) for _ in range(p2)]
    load_pool = [rng.randint(0, 400) for _ in range(p3)]
    state_pool = [1 if rng.random() < 0.97 else rng.choice((0, 2)) for _ in range(p4)]
    end = int(time.time()) if end_at is None else end_at
    start_t = end - n + 1

    def check_rows(lo: int, hi: int) -> Iterator[tuple[object, ...]]:
        for i in range(lo, hi):
            avail, load1 = avail_pool[i % p1], load_pool[i % p3]
            load5 = max(0, load1 - load_pool[(i + 7) % p3] // 8)
            load15 = max(0, load1 - load_pool[(i + 13) % p3] // 5)
            mem_pct = round(10_000 * (MEM_TOTAL_KIB - avail) / MEM_TOTAL_KIB)
            # No issue-12 readings (swap_permille, procs, cpu_count): rows as before migration 0007.
            yield (next_id + i, hid, start_t + i, cpu[i % p0], load1, load5, load15, MEM_TOTAL_KIB, avail,
                   used_pool[i % p2], mem_pct, None, None, None)  # fmt: skip

    def disk_rows(lo: int, hi: int) -> Iterator[tuple[object, ...]]:
        for i in range(lo, hi):
            used = 23_810_000 + i // 100  # grows slowly, as a real disk does
            free = DISK_TOTAL_KIB - used - 13_000_000
            yield (next_id + i, pid, DISK_TOTAL_KIB, used, free, round(10_000 * used / (used + free)), None)

    def svc_rows(lo: int, hi: int) -> Iterator[tuple[object, ...]]:
        for i in range(lo, hi):
            for k, sid in enumerate(sids):
                yield (next_id + i, sid, state_pool[(i + 31 * k) % p4])

    con = sqlite3.connect(db, isolation_level=None)
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
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return LoadResult(n, time.monotonic() - t0, start_t, end)
