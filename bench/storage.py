"""Storage: bytes per check on disk in SQLite, indexes included, through the real write path.

Goal (issue 2): at most 100 bytes per check with one disk and one service. The exam system
used about 540. Also reported, not judged: the same with 20 services.

For each case it migrates a fresh SQLite database and runs the real Sampler against it:
Sampler.sample_once() --checks times, each with the real CheckProbe (psutil cpu, memory, load,
disk "/") and ServiceRegistry, one write transaction per check, exactly as the sampling loop
does. Only the probe's clock is replaced, so consecutive checks are one second apart as at
interval 1 s. Case "1 service" is the predefined httpd (apache2 via sysv: pidfile + /proc);
case "20 services" adds 19 command-backend services whose pidfiles name a live process (so
they are all active, as on a healthy host). Afterwards the WAL is checkpointed into the main
file and bytes per check = (file size - size of the empty migrated database) / checks. The
per-table split comes from SQLite's dbstat table.

Run (from the repository root):
    .venv/bin/python bench/storage.py [--checks 100000] [--checks-20 30000]
Results go to stdout and bench/out/storage.json.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import _common as common


def _dbstat(db: Path) -> dict[str, tuple[int, int]]:
    """(bytes on disk, payload bytes) per table and index, from SQLite's dbstat table."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        return {name: (int(b), int(p)) for name, b, p in rows}
    finally:
        con.close()


def run_case(tmp: Path, checks: int, services: int) -> dict[str, Any]:
    """Write `checks` checks with `services` services through Sampler.sample_once(); measure the file."""
    from checkd.config import ServiceSettings, load_settings
    from checkd.control import ServiceRegistry
    from checkd.db import make_engine, migrate
    from checkd.probes import CheckProbe
    from checkd.sampler import Sampler

    data = tmp / f"s{services}"
    data.mkdir()
    extra = {}
    for i in range(1, services):
        pidfile = data / f"svc{i:02d}.pid"
        pidfile.write_text(f"{os.getpid()}\n")
        extra[f"svc{i:02d}"] = ServiceSettings(backend="command", pidfile=pidfile, control=False)
    settings = load_settings(data_dir=data, host_name=common.HOST_NAME)
    settings = settings.model_copy(update={"services": {**settings.services, **extra}})
    db = data / "checkd.db"
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    common.wal_checkpoint(db)
    empty = db.stat().st_size
    empty_split = _dbstat(db)

    registry = ServiceRegistry(settings.services)
    t0 = int(time.time()) - checks
    tick = iter(range(t0, t0 + checks + 1))
    probe = CheckProbe(
        disk_paths=settings.sampler.disk_paths,
        service_states=registry.states,
        clock=lambda: float(next(tick)),
    )
    engine = make_engine(settings.database_url)
    sampler = Sampler(engine=engine, host=common.HOST_NAME, probe=probe, interval_s=1)
    started = time.monotonic()
    last = None
    for i in range(checks):
        last = sampler.sample_once()
        if (i + 1) % 20_000 == 0:
            print(f"    {i + 1} checks", flush=True)
    took = time.monotonic() - started
    engine.dispose()
    common.wal_checkpoint(db)
    size = db.stat().st_size
    con = sqlite3.connect(db)
    try:
        stored = con.execute("SELECT count(*) FROM checks").fetchone()[0]
        svc_rows = con.execute("SELECT count(*) FROM check_services").fetchone()[0]
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        freelist = con.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        con.close()
    split = {}
    for name, (b, p) in _dbstat(db).items():
        grown = b - empty_split.get(name, (0, 0))[0]
        if grown:
            split[name] = {"bytes": b, "payload": p, "per_check": round(grown / stored, 1)}
    assert stored == checks, (stored, checks)
    return {
        "checks": stored,
        "services_per_check": svc_rows / stored,
        "service_states_last": last.services if last else None,
        "write_errors": sampler.write_errors_total,
        "probe_errors": probe.errors.total,
        "seconds": round(took, 1),
        "file_bytes": size,
        "empty_db_bytes": empty,
        "page_size": page_size,
        "freelist_pages": freelist,
        "bytes_per_check": round((size - empty) / stored, 1),
        "by_table": split,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checks", type=int, default=100_000, help="checks for the 1-service case")
    ap.add_argument("--checks-20", type=int, default=30_000, help="checks for the 20-service case (0: skip)")
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": common.machine()}
    cases = [(1, args.checks)] + ([(20, args.checks_20)] if args.checks_20 else [])
    with common.temp_dir("storage") as tmp:
        for services, n in cases:
            print(f"{n} checks with {services} service(s) through Sampler.sample_once() ...", flush=True)
            r = run_case(tmp, n, services)
            result[f"services_{services}"] = r
            print(
                f"  {r['bytes_per_check']} bytes per check ({r['file_bytes']} bytes file, "
                f"{r['seconds']} s to write)"
            )
            for name, t in r["by_table"].items():
                print(f"    {name:28} {t['per_check']:7.1f} bytes/check (payload {t['payload'] / n:.1f})")
    one = result["services_1"]["bytes_per_check"]
    verdict = "PASS" if one <= 100 else "FAIL"
    print(f"goal <= 100 bytes per check (1 disk, 1 service): {verdict} ({one / 100:.2f}x the goal)")
    common.save("storage", result)


if __name__ == "__main__":
    main()
