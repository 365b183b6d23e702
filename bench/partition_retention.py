"""Retention of one day of checks on PostgreSQL (issue 13): a whole partition dropped vs rows deleted.

Goal: dropping a day's partition holding 10 M checks takes under 1 s. Two fresh databases of the
same throw-away cluster (pg_virtualenv, as fleet_ingest.py) get the same --checks checks of one
day (--hosts hosts, one disk and two services each, all folded): one migrated to head
(partitioned, migration 0009), one only to 0006 (plain tables). Timed: the upkeep's
`drop_partition` steps on the first (detach the day's partitions of checks and children, taking
their folded checks off hosts.checks_count; then DROP them), with the longest write of a live
host writing beside it; and on the second, the fastest row-by-row removal of the same rows:
one DELETE statement per table (the upkeep's own paced row deletes take longer still).
Rows are generated inside PostgreSQL.

Run (from the repository root; about 10 minutes at 10 M):
    .venv/bin/python bench/partition_retention.py [--checks 10000000] [--hosts 1000]
Results go to stdout and bench/out/partition_retention.json.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from typing import Any

import fleet_capacity
import fleet_ingest as fi
import harness

DAY = 86400


def fill(dbname: str, day: int, first_id: int, checks: int, hosts: int, *, day_counts: bool) -> float:
    """`checks` checks of `hosts` hosts on `day` with ids from `first_id`, their children, all
    folded, and folded on since (each watermark past the day, as an active host's is; a host
    that stopped that day costs a scan of its own rows); return the seconds it took."""
    started = time.monotonic()
    sql = f"""
    INSERT INTO hosts (id, name) SELECT h, 'host' || h FROM generate_series(1, {hosts}) h;
    INSERT INTO disk_paths (id, path) VALUES (1, '/');
    INSERT INTO service_names (id, name) VALUES (1, 'httpd'), (2, 'sshd');
    SELECT setval('hosts_id_seq', {hosts}), setval('disk_paths_id_seq', 1), setval('service_names_id_seq', 2);
    INSERT INTO checks (id, host_id, taken_at, cpu_pct, load1, load5, load15,
                        mem_total_kib, mem_available_kib, mem_used_kib, mem_pct)
      SELECT {first_id} + i, 1 + i % {hosts}, {day * DAY} + (i * {DAY}::bigint) / {checks},
             (i * 37) % 10001, i % 400, i % 300, i % 200, 24000000, 20000000 - i % 1000,
             3000000 + i % 1000, 1667 + i % 50
      FROM generate_series(0, {checks - 1}) i;
    INSERT INTO check_disks (check_id, path_id, total_kib, used_kib, free_kib, pct)
      SELECT {first_id} + i, 1, 260000000, 24000000, 223000000, 971 FROM generate_series(0, {checks - 1}) i;
    INSERT INTO check_services (check_id, service_id, state)
      SELECT {first_id} + i, s, 1 FROM generate_series(0, {checks - 1}) i, generate_series(1, 2) s;
    INSERT INTO rollup_progress (host_id, last_check_id)
      SELECT h, {first_id + checks} + h FROM generate_series(1, {hosts}) h;
    UPDATE hosts SET checks_count = n FROM (SELECT host_id, count(*) n FROM checks GROUP BY host_id) c
      WHERE hosts.id = c.host_id;
    VACUUM ANALYZE;
    """
    if day_counts:  # what the fold keeps on a partitioned database
        sql = sql.replace(
            "VACUUM ANALYZE;",
            "INSERT INTO check_day_counts (host_id, day, count)"
            " SELECT host_id, taken_at / 86400, count(*) FROM checks GROUP BY 1, 2; VACUUM ANALYZE;",
        )
    for statement in filter(str.strip, sql.split(";")):
        fi.pg(statement, dbname)
    return time.monotonic() - started


class LiveWriter:
    """A thread writing one check of host `live` every 10 ms through CheckWriter; the longest write."""

    def __init__(self, url: str) -> None:
        from checkd import store
        from checkd.db import make_engine

        self.engine = make_engine(url, pool_size=1)
        self.writer = store.CheckWriter(engine=self.engine, host="live")
        self.longest_ms = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        rng = random.Random(1)
        while not self.done.wait(0.01):
            started = time.perf_counter()
            self.writer.write([fi.make_check(rng, fi.SERVICES[:2])])
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - started) * 1000)

    def longest_reset(self) -> float:
        """The longest write since the last call, in ms."""
        longest, self.longest_ms = self.longest_ms, 0.0
        return round(longest, 1)

    def stop(self) -> None:
        """Stop the thread and close the writer."""
        self.done.set()
        self.thread.join()
        self.writer.close()
        self.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checks", type=int, default=10_000_000)
    ap.add_argument("--hosts", type=int, default=1000)
    args = ap.parse_args()
    if "PGPORT" not in os.environ:  # a throw-away cluster on a free port, removed when this exits
        env = {**os.environ, "PGPORT": str(harness.free_port())}
        argv = ["pg_virtualenv", "-t", "-o", "max_connections=200", sys.executable, *sys.argv]
        os.execvpe(argv[0], argv, env)
    os.environ["PGHOST"] = "127.0.0.1"
    fi.configure(fi.DURABLE)
    from checkd.db import head_revision, make_engine
    from checkd.store.backends import pg_partitions

    # A day ahead of the migration's (whose id range below today's base already exists), as it
    # will be once these days are past the retention.
    day = int(time.time()) // DAY + 10
    result: dict[str, Any] = {"machine": harness.machine(), "checks": args.checks, "hosts": args.hosts}

    url, part_db = fleet_capacity.database(head_revision())
    engine = make_engine(url)
    with engine.begin() as conn:  # the day's partitions, as the upkeep made them ahead on that day
        pg_partitions.make_ahead(conn, day * DAY)
    result["fill_partitioned_s"] = round(
        fill(part_db, day, pg_partitions.id_base(day), args.checks, args.hosts, day_counts=True), 1
    )
    harness.log(f"partitioned database filled in {result['fill_partitioned_s']} s")
    with engine.begin() as conn:  # two days later: the sequence has moved on past the day's ids
        pg_partitions.make_ahead(conn, (day + 2) * DAY)
        while (gone := pg_partitions.drop_oldest(conn, day * DAY)) is not None:  # the empty days before
            assert gone == 0
    name = f"checks_{pg_partitions.stamp(day)}"
    result["day_partition_bytes"] = fi.pg(f"SELECT pg_total_relation_size('{name}')", part_db)[0][0]
    result["child_partitions_bytes"] = sum(
        fi.pg(f"SELECT pg_total_relation_size('{t}_{pg_partitions.stamp(day)}')", part_db)[0][0]
        for t in pg_partitions.CHILDREN
    )
    writer = LiveWriter(url)  # a host writing one check every 10 ms through the retention steps
    time.sleep(2)
    before = writer.longest_reset()
    steps = []
    while True:  # as the upkeep's prune: one step per transaction until there is nothing to do
        started = time.monotonic()
        with engine.begin() as conn:
            returned = pg_partitions.drop_oldest(conn, (day + 1) * DAY)
        steps.append({"returned": returned, "s": round(time.monotonic() - started, 3)})
        if returned is None:
            break
    result["steps"] = steps
    result["drop_partition_s"] = round(sum(step["s"] for step in steps), 3)
    result["writer_longest_write_ms"] = {"before": before, "during_retention": writer.longest_reset()}
    writer.stop()
    dropped = steps[0]["returned"]
    result["dropped_checks"] = dropped
    left = (
        fi.pg(
            "SELECT count(*) FROM checks WHERE host_id <> (SELECT id FROM hosts WHERE name = 'live')", part_db
        )[0][0],
        fi.pg(
            f"SELECT count(*) FROM check_services WHERE check_id < {pg_partitions.id_base(day + 1)}",
            part_db,
        )[0][0],
    )
    result["left_after_drop"] = left
    engine.dispose()
    harness.log(
        f"drop_partition steps: {steps} for {dropped:,} checks; writer: {result['writer_longest_write_ms']}"
    )

    _url, plain_db = fleet_capacity.database("0006")
    result["fill_plain_s"] = round(fill(plain_db, day, 1, args.checks, args.hosts, day_counts=False), 1)
    started = time.monotonic()
    for table, where in (
        ("check_disks", f"check_id <= {args.checks}"),
        ("check_services", f"check_id <= {args.checks}"),
        ("checks", f"taken_at < {(day + 1) * DAY}"),
    ):
        fi.pg(f"DELETE FROM {table} WHERE {where}", plain_db)
    result["delete_rows_s"] = round(time.monotonic() - started, 1)
    harness.log(f"row-by-row DELETE of the same rows: {result['delete_rows_s']} s")

    print(f"\n== retention of one day, {args.checks:,} checks of {args.hosts} hosts ==")
    print(
        f"drop the day's partitions (upkeep's drop_partition steps): {result['drop_partition_s']} s {steps}"
    )
    print(f"longest write of a live host: {result['writer_longest_write_ms']} ms")
    print(f"DELETE the same rows (one statement per table):     {result['delete_rows_s']} s")
    harness.save("partition_retention", result)


if __name__ == "__main__":
    main()
