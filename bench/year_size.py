"""A year at 1 s (issue 4): one host's SQLite database with the default retention, against 500 MB.

Goal: a year at 1 s for one host fits in <= 500 MB on SQLite with the default retention (raw
30 d, 1-minute rollups 180 d, 1-hour rollups 5 y). After a year the database holds the newest
30 days of raw checks, 180 days of 1-minute rollups and 365 days of 1-hour rollups.

It builds the raw tier as it then is: --days (30) of checks at 1 s, bulk-loaded
(bulk_load.py: one disk, one service, ending now), folded into rollups by checkd's own
upkeep (Upkeep.fold, which lays rollup rows out as it does in production). From that file it
measures bytes per raw check (tables and their index, from dbstat) and per rollup row, and
estimates the year: raw checks x bytes per check + rollup rows (one per bucket and metric: cpu,
memory, load1, the disk, the service) x bytes per rollup row. The whole file at --days is
reported too.

Then it times what keeps the file bounded: Retention.prune with its clock set so that the oldest
--prune-days of raw checks are past retention and get deleted (production prunes hourly).

Run (from the repository root; about 4 minutes):
    .venv/bin/python bench/year_size.py [--days 30] [--prune-days 1]
Results go to stdout and bench/out/year_size.json.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import bulk_load
import harness

DAY = 86400
YEAR_DAYS = 365
GOAL_MB = 500
HOST = "bench-loaded"


def year_estimate(per_check: float, per_rollup_row: float, metrics: int) -> dict[str, Any]:
    """Rows and bytes per tier after a year at 1 s with the default retention."""
    from checkd.config import RetentionSettings

    keep = RetentionSettings()
    days = {tier: min(keep.seconds(tier) / DAY, YEAR_DAYS) for tier in ("raw", "minute", "hour")}
    rows = {
        "raw": days["raw"] * DAY,
        "minute": days["minute"] * 1440 * metrics,
        "hour": days["hour"] * 24 * metrics,
    }
    size = {
        "raw": rows["raw"] * per_check,
        "minute": rows["minute"] * per_rollup_row,
        "hour": rows["hour"] * per_rollup_row,
    }
    total = sum(size.values())
    return {
        "days_kept": days,
        "metrics_per_bucket": metrics,
        "rows": {k: int(v) for k, v in rows.items()},
        "mb": {k: round(v / 1e6, 1) for k, v in size.items()},
        "total_mb": round(total / 1e6, 1),
        "ratio_to_goal": round(total / (GOAL_MB * 1e6), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=float, default=30, help="days of checks at 1 s to load and fold")
    ap.add_argument("--prune-days", type=float, default=1, help="days of raw checks the timed prune deletes")
    args = ap.parse_args()

    from checkd.config import RetentionSettings
    from checkd.db import make_engine
    from checkd.upkeep import Upkeep

    n = int(args.days * DAY)
    result: dict[str, Any] = {"machine": harness.machine(), "days": args.days, "checks": n}
    with harness.temp_dir("year-size") as tmp:
        db = tmp / "checkd.db"
        harness.log(f"bulk-loading {n:,} checks ({args.days:g} days at 1 s)")
        load = bulk_load.bulk_load(db, n, host=HOST)
        result["load"] = {"seconds": round(load.seconds, 1), "checks_per_s": round(load.rate)}
        harness.log(f"  {load.seconds:.1f} s = {load.rate:,.0f} checks/s; folding all with Upkeep.fold")
        engine = make_engine(f"sqlite:///{db}")
        t0 = time.monotonic()
        folded = Upkeep(engine=engine, host=HOST, retention=RetentionSettings()).fold()
        fold_s = time.monotonic() - t0
        result["fold"] = {
            "checks": folded,
            "seconds": round(fold_s, 1),
            "checks_per_s": round(folded / fold_s),
        }
        harness.log(f"  folded {folded:,} checks in {fold_s:.1f} s")
        result["bytes"] = sizes = harness.db_bytes(db)
        metrics = int(harness.query(db, "SELECT count(DISTINCT metric_id) FROM rollups")[0][0])
        result["year"] = year = year_estimate(sizes["per_check_raw_tables"], sizes["per_rollup_row"], metrics)

        # The clock at which the oldest --prune-days of checks are past the raw tier's retention.
        clock = load.first_taken_at + RetentionSettings().seconds("raw") + args.prune_days * DAY
        upkeep = Upkeep(engine=engine, host=HOST, retention=RetentionSettings(), clock=lambda: clock)
        t0 = time.monotonic()
        deleted = upkeep.prune()
        prune_s = time.monotonic() - t0
        engine.dispose()
        result["prune"] = {"deleted_rows": deleted, "seconds": round(prune_s, 2),
                           "rows_per_s": round(deleted / prune_s)}  # fmt: skip

    print(
        f"{args.days:g} days at 1 s: file {sizes['file_mb']} MB ({sizes['per_check_file']} B per check); "
        f"raw tables and index {sizes['per_check_raw_tables']} B per check, "
        f"{sizes['per_rollup_row']} B per rollup row ({sizes['rollup_rows']:,} rows)\n"
        f"a year at 1 s, default retention: {year['mb']} MB, total {year['total_mb']} MB; "
        f"goal <= {GOAL_MB} MB: {'PASS' if year['total_mb'] <= GOAL_MB else 'FAIL'} "
        f"({year['ratio_to_goal']}x)\n"
        f"Retention.prune of {args.prune_days:g} day(s) of raw checks: {deleted:,} rows in {prune_s:.2f} s"
    )
    harness.save("year_size", result)


if __name__ == "__main__":
    main()
