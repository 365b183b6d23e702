"""Retention of one day of checks on PostgreSQL (issue 13): a whole partition dropped vs rows deleted.

Goal: retention of a day's partitions holding 10 M checks takes under 1 s. One database of a
throw-away cluster (pg_virtualenv, as fleet_ingest.py) migrated to head (partitioned, migration
0009) gets --checks checks of one day (--hosts hosts, one disk and two services each, all folded)
and is copied once. Timed on each: the upkeep's drop_partition steps, one per transaction as its
prune runs them (a detach of the day, the only step that locks checks; then one DROP per detached
table, its files unlinked at commit), with a live host writing one check every 10 ms beside them
(its longest write per step). The original runs with the day's files in the OS page cache as the
fill left them; the copy with them evicted first, as a day past a 30-day retention usually is.
Beside them, what the filesystem alone takes to free the same bytes: files of the day's
relation sizes (1 GB segments, as PostgreSQL's), written in the cluster's filesystem, each
truncated as PostgreSQL does at commit. And a database only at 0006 (plain tables) with the same
rows: the fastest row-by-row removal, one DELETE statement per table (the upkeep's own paced row
deletes take longer still). Rows are generated inside PostgreSQL.

Run (from the repository root; about 15 minutes at 10 M):
    .venv/bin/python bench/partition_retention.py [--checks 10000000] [--hosts 1000]
Results go to stdout and bench/out/partition_retention.json.
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import sys
import tempfile
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
      SELECT {first_id} + j / 2, 1 + j % 2, 1 FROM generate_series(0, {2 * checks - 1}) j;
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


def day_relations(dbname: str, stamp: str) -> list[tuple[str, int, str]]:
    """(name, bytes, file path) of each table and index of the day's partitions."""
    return [
        (str(name), int(size), str(path))
        for name, size, path in fi.pg(
            "SELECT relname, pg_relation_size(oid), pg_relation_filepath(oid) FROM pg_class"
            f" WHERE relname LIKE '%\\_{stamp}%' AND relkind IN ('r', 'i') ORDER BY 1",
            dbname,
        )
    ]


def evict(paths: list[str]) -> None:
    """Drop the files' pages from the OS page cache (written back first: CHECKPOINT)."""
    fi.pg("CHECKPOINT")
    for path in paths:
        for name in glob.glob(f"{path}*"):
            fd = os.open(name, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def free_files(sizes: list[int], *, cached: bool) -> float:
    """Seconds to truncate files of `sizes` bytes (in 1 GB segments) in the cluster's filesystem,
    written and synced first, cached or evicted: what PostgreSQL's unlink at commit costs alone."""
    segment = 1 << 30
    data = fi.pg("SHOW data_directory")[0][0]
    took = 0.0
    with tempfile.TemporaryDirectory(dir=os.path.dirname(data)) as tmp:
        block = b"\1" * (1 << 20)
        for n, size in enumerate(sizes):
            for part in range(0, size, segment):
                path = os.path.join(tmp, f"{n}.{part // segment}")
                with open(path, "wb") as f:
                    for _ in range(min(segment, size - part) // len(block)):
                        f.write(block)
                    f.flush()
                    os.fsync(f.fileno())
                if not cached:
                    evict([path])
                started = time.perf_counter()
                os.truncate(path, 0)
                took += time.perf_counter() - started
    return round(took, 3)


def retention(url: str, dbname: str, day: int, writer: LiveWriter) -> dict[str, Any]:
    """Run the upkeep's drop_partition steps, one per transaction, until there is nothing to do:
    each step's table, seconds and the live host's longest write meanwhile."""
    from checkd.db import make_engine
    from checkd.store.backends import backend_for, pg_partitions

    engine = make_engine(url)
    backend = backend_for(engine)
    writer.longest_reset()
    steps = []
    while True:  # as the upkeep's prune: one step per transaction until there is nothing to do
        retired = fi.pg(
            f"SELECT relname FROM pg_class WHERE relname LIKE '%{pg_partitions.RETIRED}' ORDER BY 1 LIMIT 1",
            dbname,
        )
        started = time.monotonic()
        with engine.begin() as conn:
            returned = backend.drop_partition(conn, (day + 1) * DAY)
        seconds = time.monotonic() - started
        if returned is None:
            break
        what = f"drop {retired[0][0]}" if retired else "detach the day"
        steps.append({"step": what, "s": round(seconds, 3), "longest_write_ms": writer.longest_reset()})
    engine.dispose()
    left = fi.pg(
        f"SELECT (SELECT count(*) FROM checks WHERE taken_at BETWEEN {day * DAY} AND {(day + 1) * DAY - 1}),"
        f" (SELECT count(*) FROM check_services WHERE check_id < {pg_partitions.id_base(day + 1)})",
        dbname,
    )[0]
    locking = [st for st in steps if st["step"] == "detach the day"]
    return {
        "steps": steps,
        "wall_s": round(sum(st["s"] for st in steps), 3),
        "checks_locked_s": round(sum(st["s"] for st in locking), 3),
        "longest_write_ms": max(st["longest_write_ms"] for st in steps),
        "left_after": list(left),
    }


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
    stamp = pg_partitions.stamp(day)
    result: dict[str, Any] = {"machine": harness.machine(), "checks": args.checks, "hosts": args.hosts}
    result["postgres"] = fi.pg("SELECT version()")[0][0]
    result["shared_buffers"] = fi.pg("SHOW shared_buffers")[0][0]

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
    engine.dispose()
    relations = day_relations(part_db, stamp)
    result["day_relations_bytes"] = {name: size for name, size, _path in relations}
    result["day_bytes"] = sum(size for _name, size, _path in relations)
    copy_db = f"{part_db}_evicted"
    fi.pg(f'CREATE DATABASE "{copy_db}" TEMPLATE "{part_db}" STRATEGY FILE_COPY')
    copy_url = url.rsplit("/", 1)[0] + f"/{copy_db}"

    data = fi.pg("SHOW data_directory")[0][0]
    for label, db_url, dbname, cached in (
        ("cached", url, part_db, True),
        ("evicted", copy_url, copy_db, False),
    ):
        if not cached:
            evict([os.path.join(data, path) for _name, _size, path in day_relations(dbname, stamp)])
        writer = LiveWriter(db_url)  # a host writing one check every 10 ms through the retention steps
        time.sleep(2)
        run = retention(db_url, dbname, day, writer)
        writer.stop()
        run["files_truncate_s"] = free_files([size for _n, size, _p in relations], cached=cached)
        result[f"retention_{label}"] = run
        harness.log(f"retention, files {label}: {run}")

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

    print(
        f"\n== retention of one day, {args.checks:,} checks of {args.hosts} hosts,"
        f" {result['day_bytes']:,} bytes of tables and indexes =="
    )
    for label in ("cached", "evicted"):
        run = result[f"retention_{label}"]
        print(
            f"partition steps, files {label}: {run['wall_s']} s in all,"
            f" checks locked {run['checks_locked_s']} s,"
            f" longest live write {run['longest_write_ms']} ms; the filesystem alone frees the same bytes"
            f" in {run['files_truncate_s']} s"
        )
    print(f"DELETE the same rows (one statement per table): {result['delete_rows_s']} s")
    harness.save("partition_retention", result)


if __name__ == "__main__":
    main()
