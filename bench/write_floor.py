"""Write floor: what one check's write costs through checkd's path vs plain sqlite3, and the rollup fold.

Not one of issue 2's goals by itself: it backs the "what limits it" note of sampler_cost.py
with reproducible figures. On a SQLite file migrated by checkd, in one process, it measures the
CPU time (time.process_time) per check of:

    store      `store.CheckWriter(...).write([check])`, as Sampler.flush does
    sqlite3    the same rows (checks, check_disks, check_services)
               through plain DB-API prepared statements on one open connection, one transaction
               per check, `lastrowid` for the new id
    fold       Upkeep.fold() after every 60 stored checks (the upkeep thread folds every 60 s
               at interval 1 s), divided by 60

The check itself is one real CheckProbe reading (httpd through the real ServiceRegistry), reused.

Run (from the repository root):
    .venv/bin/python bench/write_floor.py [--checks 3000]
Results go to stdout and bench/out/write_floor.json.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from typing import Any

import harness

FOLD_EVERY = 60  # checks between folds: Upkeep folds every 60 s, at interval 1 s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checks", type=int, default=3000)
    args = ap.parse_args()
    n = args.checks

    from checkd import store
    from checkd.config import load_settings
    from checkd.control import ServiceRegistry
    from checkd.db import make_engine, migrate
    from checkd.probes import CheckProbe
    from checkd.store import codec
    from checkd.upkeep import Upkeep

    result: dict[str, Any] = {"machine": harness.machine(), "checks": n}
    with harness.temp_dir("write-floor") as tmp:
        settings = load_settings(data_dir=tmp / "a", host_name=harness.HOST_NAME)
        registry = ServiceRegistry(settings.services)
        check = CheckProbe(disk_paths=["/"], service_states=registry.states).take_check()

        # 1. checkd's write path
        engine = make_engine(settings.database_url)
        migrate(engine)

        writer = store.CheckWriter(engine=engine, host=harness.HOST_NAME)

        def write() -> None:
            writer.write([check])

        for _ in range(100):
            write()
        t0 = time.process_time()
        for _ in range(n):
            write()
        result["store_ms_per_check"] = round((time.process_time() - t0) * 1000 / n, 4)

        # 3. rollup fold, every FOLD_EVERY checks
        upkeep = Upkeep(engine=engine, host=harness.HOST_NAME, retention=settings.retention)
        upkeep.fold()
        folds, fold_cpu = max(1, n // FOLD_EVERY), 0.0
        for _ in range(folds):
            for _ in range(FOLD_EVERY):
                write()
            t0 = time.process_time()
            upkeep.fold()
            fold_cpu += time.process_time() - t0
        result["fold_ms_per_check"] = round(fold_cpu * 1000 / (folds * FOLD_EVERY), 4)
        engine.dispose()

        # 2. the same rows through plain sqlite3
        db = tmp / "b" / "checkd.db"
        db.parent.mkdir()
        engine = make_engine(f"sqlite:///{db}")
        migrate(engine)
        with engine.begin() as conn:
            hid = store.host_id(conn=conn, name=harness.HOST_NAME)
            pid = store.dims.path_id(conn=conn, path="/")
            sids = {name: store.dims.service_id(conn=conn, name=name) for name in check.services}
        engine.dispose()
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        cols = ["host_id", *codec.CHECK_COLUMNS]
        ins_check = f"INSERT INTO checks ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        ins_disk = (
            "INSERT INTO check_disks (check_id, path_id, total_kib, used_kib, free_kib, pct) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        ins_svc = "INSERT INTO check_services (check_id, service_id, state) VALUES (?,?,?)"
        cur = con.cursor()

        def write_raw() -> None:
            cur.execute("BEGIN")
            cur.execute(ins_check, (hid, *codec.check_values(check)))
            cid = cur.lastrowid
            disks = [(cid, pid, *codec.disk_values(d)) for d in check.disks]
            cur.executemany(ins_disk, disks)
            svcs = [(cid, sids[k], codec.STATE_CODE.get(v, 5)) for k, v in check.services.items()]
            cur.executemany(ins_svc, svcs)
            cur.execute("COMMIT")

        for _ in range(100):
            write_raw()
        t0 = time.process_time()
        for _ in range(n):
            write_raw()
        result["sqlite3_ms_per_check"] = round((time.process_time() - t0) * 1000 / n, 4)
        con.close()

    ratio = result["store_ms_per_check"] / result["sqlite3_ms_per_check"]
    result["store_over_sqlite3"] = round(ratio, 1)
    print(
        f"per check, CPU: checkd CheckWriter.write {result['store_ms_per_check']} ms, plain sqlite3 "
        f"{result['sqlite3_ms_per_check']} ms ({ratio:.1f}x), rollup fold {result['fold_ms_per_check']} ms"
    )
    harness.save("write_floor", result)


if __name__ == "__main__":
    main()
