"""PostgreSQL's time partitions: checks by day of `taken_at`, their children by day-aligned id ranges.

`checks` is range-partitioned by `taken_at`, one partition per UTC day. The child tables keep
only `check_id`, so they are range-partitioned by it: at the start of each day the id sequence
jumps to that day's base (`day << ID_BITS`), so the ids written on day D fall in the child range
[base(D), base(D+1)), aligned with D's partition of `checks`. Each table has a DEFAULT partition,
so a write never fails for a missing one; the upkeep creates today's and the next AHEAD_DAYS
partitions (moving any rows the default holds for them) and drops whole partitions past the
retention. Names are the models' own constants and day stamps; values are bound parameters."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

log = logging.getLogger(__name__)

DAY = 86400
AHEAD_DAYS = 3  # partitions exist for today and this many days ahead
ID_BITS = 32  # room for 2**32 ids a day before a day's ids spill into the next range (harmless)
PARENT, PARENT_KEY, PARENT_ID_SEQ = "checks", "taken_at", "checks_id_seq"
# Tables of per-check rows keyed by `check_id` (the lead adds new ones here and in migration 0009).
CHILDREN = ("check_disks", "check_services", "check_net", "check_net_faults", "check_disk_io", "check_probes")
CHILD_KEY = "check_id"
RETIRED = "_retired"  # the suffix of a detached partition that the next step drops
_LOCK_KEY = 0x636B_7061  # one partition keeper at a time across every checkd on this database
LOCK_TIMEOUT = "5s"  # a DDL waiting longer than this gives up (retried next round): writers queue behind it
# A retention step's DDL waits at most this long for a lock (live writers queue behind it
# meanwhile); then the backend rolls the step back, lets them pass and tries again.
STEP_LOCK_TIMEOUT = "400ms"
STEP_TRIES = 3
_BOUND = re.compile(r"FROM \((\S+)\) TO \((\S+)\)")


def id_base(day: int) -> int:
    """The first check id of `day` (days since the epoch)."""
    return day << ID_BITS


def stamp(day: int) -> str:
    """YYYYMMDD of `day`, the suffix of its partitions' names."""
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y%m%d")


@dataclass(frozen=True)
class Partition:
    """One partition of a table: a range [lo, hi) (lo None = MINVALUE), or the default (both None)."""

    name: str
    lo: int | None
    hi: int | None

    @property
    def is_default(self) -> bool:
        """True for the DEFAULT partition."""
        return self.hi is None


def _bound(text: str) -> int | None:
    value = text.strip("'")
    return None if value.upper() == "MINVALUE" else int(value)


def is_partitioned(conn: Connection, table: str) -> bool:
    """True when `table` is a partitioned table."""
    kind = conn.exec_driver_sql("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (table,)).scalar()
    return kind == "p"


def partitions(conn: Connection, table: str) -> list[Partition]:
    """`table`'s partitions, ranges by their lower bound, the default last."""
    rows = conn.exec_driver_sql(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
        (table,),
    ).all()
    out = []
    for name, bound in rows:
        found = _BOUND.search(bound)
        out.append(
            Partition(name, None, None) if found is None else Partition(name, *map(_bound, found.groups()))
        )
    return sorted(out, key=lambda p: (p.is_default, -(2**63) if p.lo is None else p.lo))


def _lock(conn: Connection, timeout: str = LOCK_TIMEOUT) -> None:
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{timeout}'")
    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))


# Folded checks per host and day, kept by the fold beside hosts.checks_count: dropping a day takes
# its counts off the hosts without counting the day's rows.
DAY_COUNTS = "check_day_counts"
DAY_COUNTS_DDL = f"""
CREATE TABLE {DAY_COUNTS} (
  host_id integer NOT NULL, day integer NOT NULL, count bigint NOT NULL,
  CONSTRAINT pk_{DAY_COUNTS} PRIMARY KEY (host_id, day)
)"""
_COUNTED = "checkd_day_counts"  # Connection.info key: this connection saw the table


def count_folded(conn: Connection, host_id: int, taken_at: Sequence[int]) -> None:
    """Add the folded checks taken at `taken_at` to `host_id`'s counts per day (once the table exists)."""
    if not taken_at:
        return
    if not conn.info.get(_COUNTED):
        if conn.exec_driver_sql("SELECT to_regclass(%s)", (DAY_COUNTS,)).scalar() is None:
            return  # not migrated to 0009 yet: nothing is partitioned, nothing is dropped whole
        conn.info[_COUNTED] = True
    days: dict[int, int] = {}
    for t in taken_at:
        days[t // DAY] = days.get(t // DAY, 0) + 1
    conn.exec_driver_sql(
        f"INSERT INTO {DAY_COUNTS} (host_id, day, count)"  # noqa: S608
        " SELECT %s, d, n FROM unnest(%s::integer[], %s::bigint[]) AS u(d, n)"
        f" ON CONFLICT (host_id, day) DO UPDATE SET count = {DAY_COUNTS}.count + excluded.count",
        (host_id, list(days), list(days.values())),
    )


def create_range(conn: Connection, table: str, key: str, name: str, lo: int, hi: int) -> None:
    """Attach partition `name` = [lo, hi) of `table`, moving in the rows its default holds for it."""
    conn.exec_driver_sql(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)')
    default = f"{table}_default"
    if conn.exec_driver_sql("SELECT to_regclass(%s)", (default,)).scalar() is not None:
        conn.exec_driver_sql(
            f'WITH moved AS (DELETE FROM "{default}" WHERE {key} >= %s AND {key} < %s RETURNING *)'  # noqa: S608
            f' INSERT INTO "{name}" SELECT * FROM moved',
            (lo, hi),
        )
    conn.exec_driver_sql(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM ({lo}) TO ({hi})')


def make_ahead(conn: Connection, now: int) -> int:
    """Create the partitions of today and AHEAD_DAYS days ahead that are missing, and move the id
    sequence to today's base if it is below; return how many partitions were created."""
    if not is_partitioned(conn, PARENT):
        return 0
    _lock(conn)
    today = now // DAY
    days = range(today, today + AHEAD_DAYS + 1)
    created = 0
    have = {p.lo for p in partitions(conn, PARENT)}
    for day in days:
        if day * DAY not in have:
            create_range(conn, PARENT, PARENT_KEY, f"{PARENT}_{stamp(day)}", day * DAY, (day + 1) * DAY)
            created += 1
    for child in CHILDREN:
        # A day's range overlaps one only when the clock went back before the migration's day:
        # its ids (the sequence never goes back) fall in the ranges already there.
        taken = [(p.lo, p.hi) for p in partitions(conn, child) if p.hi is not None]
        for day in days:
            lo, hi = id_base(day), id_base(day + 1)
            if not any((a is None or a < hi) and lo < b for a, b in taken):
                create_range(conn, child, CHILD_KEY, f"{child}_{stamp(day)}", lo, hi)
                created += 1
    # Writers keep calling nextval meanwhile: setval only ever moves the sequence forward, and
    # the advisory lock keeps two keepers from both moving it.
    conn.exec_driver_sql(
        f"SELECT setval(CAST(%s AS regclass), %s, false) FROM {PARENT_ID_SEQ} WHERE last_value < %s",  # noqa: S608
        (PARENT_ID_SEQ, id_base(today), id_base(today)),
    )
    if created:
        log.info("partitions: created %d ahead", created)
    return created


def drop_oldest(conn: Connection, cutoff: int) -> int | None:
    """One step of retention by whole partitions, for one transaction: DROP one table a step
    before detached (its files go at commit; no other table is locked meanwhile), or else detach
    the oldest day of `checks` ending by `cutoff` when all its checks are folded (taking its
    folded checks off the hosts' counts) and the child ranges no remaining check can own.
    Detaching locks the parent only briefly: writers never wait for the files to go. Return the
    folded checks detached (0 for a step without a day), or None when there was nothing to do."""
    if not is_partitioned(conn, PARENT):
        return None
    _lock(conn, STEP_LOCK_TIMEOUT)
    retired = conn.exec_driver_sql(
        "SELECT relname FROM pg_class WHERE relkind = 'r'"
        " AND relnamespace = to_regnamespace(current_schema()) AND relname ~ %s ORDER BY relname LIMIT 1",
        (f"^({'|'.join((PARENT, *CHILDREN))})_.*{RETIRED}$",),
    ).scalar()
    if retired is not None:
        # One table per transaction: the unlink of its files at commit is the step's whole cost,
        # so a day's files go in short steps the upkeep can stop between.
        conn.exec_driver_sql(f'DROP TABLE "{retired}"')
        log.info("partitions: dropped %s", retired)
        return 0
    detached = None
    ranges = [p for p in partitions(conn, PARENT) if not p.is_default]
    if ranges and ranges[0].lo is not None and ranges[0].hi is not None and ranges[0].hi <= cutoff:
        oldest, day = ranges[0], ranges[0].lo // DAY
        if _all_folded(conn, oldest.name):
            # Detach before touching hosts: DETACH locks checks, then hosts (for the detached
            # table's own foreign key), in the order a fold or a write does. Updating hosts first
            # held their rows while DETACH waited for checks: a fold that had read checks and
            # then updated its host deadlocked with it.
            _retire(conn, PARENT, oldest.name)
            conn.exec_driver_sql(
                f"UPDATE hosts SET checks_count = checks_count - d.count FROM {DAY_COUNTS} d"  # noqa: S608
                " WHERE d.host_id = hosts.id AND d.day = %s",
                (day,),
            )
            detached = int(
                conn.exec_driver_sql(
                    f"SELECT coalesce(sum(count), 0) FROM {DAY_COUNTS} WHERE day = %s",  # noqa: S608
                    (day,),
                ).scalar_one()
            )
            # Days before it were never partitioned: their rows were deleted (and uncounted) one by one.
            conn.exec_driver_sql(f"DELETE FROM {DAY_COUNTS} WHERE day <= %s", (day,))  # noqa: S608
            log.info("partitions: detached %s (%d checks)", oldest.name, detached)
        else:
            log.warning("partitions: %s is past retention but holds checks not folded yet; kept", oldest.name)
    if _retire_children(conn) and detached is None:
        detached = 0
    return detached


def _retire(conn: Connection, table: str, partition: str) -> None:
    """Detach `partition` from `table` and mark it for the next step's DROP."""
    conn.exec_driver_sql(f'ALTER TABLE "{table}" DETACH PARTITION "{partition}"')
    conn.exec_driver_sql(f'ALTER TABLE "{partition}" RENAME TO "{partition}{RETIRED}"')


def _all_folded(conn: Connection, partition: str) -> bool:
    """Whether every check in `partition` is folded: each host there has its watermark at or past
    the partition's newest id (index probes), or else at or past its own newest id there."""
    newest = conn.exec_driver_sql(f'SELECT max(id) FROM "{partition}"').scalar()  # noqa: S608
    if newest is None:
        return True
    behind = conn.exec_driver_sql(
        "SELECT h.id, coalesce(r.last_check_id, 0) FROM hosts h"  # noqa: S608
        " LEFT JOIN rollup_progress r ON r.host_id = h.id"
        " WHERE coalesce(r.last_check_id, 0) < %s"
        f' AND EXISTS (SELECT 1 FROM "{partition}" c WHERE c.host_id = h.id)',
        (newest,),
    ).all()
    for host_id, mark in behind:  # a host that stopped writing that day: its own rows only
        own = conn.exec_driver_sql(
            f'SELECT max(id) FROM "{partition}" WHERE host_id = %s',  # noqa: S608
            (host_id,),
        ).scalar()
        if own is not None and own > mark:
            return False
    return True


def _retire_children(conn: Connection) -> bool:
    """Detach the child ranges below every remaining check's id, except the ranges of the id
    sequence's day and the day before (a write still in flight, its check not visible yet, keeps
    its rows); whether there were any."""
    current = int(conn.exec_driver_sql(f"SELECT last_value FROM {PARENT_ID_SEQ}").scalar_one())  # noqa: S608
    lowest = conn.exec_driver_sql(f"SELECT min(id) FROM {PARENT}").scalar()  # noqa: S608
    limit = min(current if lowest is None else int(lowest), id_base((current >> ID_BITS) - 1))
    found = False
    for child in CHILDREN:
        for part in partitions(conn, child):
            if part.hi is not None and part.hi <= limit:
                _retire(conn, child, part.name)
                found = True
    return found


def row_cutoff(conn: Connection, cutoff: int) -> int:
    """Before when retention deletes rows one by one: only rows older than every day partition
    (in the default partition) are; the days themselves are dropped whole."""
    if not is_partitioned(conn, PARENT):
        return cutoff
    ranges = [p.lo for p in partitions(conn, PARENT) if p.lo is not None]
    return min([cutoff, *ranges])
