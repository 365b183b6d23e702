"""Reads of checks (newest-first keyset pages, cpu history, host summaries) and their deletion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, Table, and_, delete, func, or_, select, update

from checkd.models import (
    check_disk_io,
    check_disks,
    check_net,
    check_net_faults,
    check_probes,
    check_services,
    checks,
    device_names,
    disk_paths,
    hosts,
    probe_names,
    rollup_progress,
    service_names,
)
from checkd.probes import Check
from checkd.store import codec, dims

_CHECK_COLS = [
    checks.c.id,
    checks.c.host_id,
    checks.c.taken_at,
    checks.c.cpu_pct,
    checks.c.load1,
    checks.c.load5,
    checks.c.load15,
    checks.c.mem_total_kib,
    checks.c.mem_available_kib,
    checks.c.mem_used_kib,
    checks.c.mem_pct,
    checks.c.swap_permille,
    checks.c.procs,
    checks.c.cpu_count,
]
# Per-check tables keyed by (check_id, a dimension id), deleted with their check.
_CHILD_TABLES = (check_disks, check_services, check_net, check_net_faults, check_disk_io, check_probes)


def _attach_children(conn: Connection, items: list[Check]) -> list[Check]:
    if not items:
        return items
    by_id = {c.id: c for c in items}
    ids = list(by_id)
    disk_q = (
        select(check_disks, disk_paths.c.path)
        .join(disk_paths, disk_paths.c.id == check_disks.c.path_id)
        .where(check_disks.c.check_id.in_(ids))
        .order_by(check_disks.c.check_id, check_disks.c.path_id)
    )
    for row in conn.execute(disk_q).mappings():
        by_id[row["check_id"]].disks.append(codec.disk_from_row(row))
    svc_q = (
        select(check_services.c.check_id, check_services.c.state, service_names.c.name)
        .join(service_names, service_names.c.id == check_services.c.service_id)
        .where(check_services.c.check_id.in_(ids))
        .order_by(check_services.c.check_id, check_services.c.service_id)
    )
    for row in conn.execute(svc_q).mappings():
        by_id[row["check_id"]].services[row["name"]] = codec.STATES[row["state"]]
    faults = {(r["check_id"], r["device_id"]): r for r in _device_rows(conn, check_net_faults, ids)}
    for row in _device_rows(conn, check_net, ids):
        fault = faults.get((row["check_id"], row["device_id"]))
        by_id[row["check_id"]].net.append(codec.net_from_row(row, fault))
    for row in _device_rows(conn, check_disk_io, ids):
        by_id[row["check_id"]].disk_io.append(codec.disk_io_from_row(row))
    probe_q = (
        select(check_probes, probe_names.c.name)
        .join(probe_names, probe_names.c.id == check_probes.c.probe_id)
        .where(check_probes.c.check_id.in_(ids))
        .order_by(check_probes.c.check_id, probe_names.c.name)
    )
    for row in conn.execute(probe_q).mappings():
        check = by_id[row["check_id"]]
        check.endpoints.append(codec.probe_from_row(row, check.taken_at))
    return items


def _device_rows(conn: Connection, table: Table, ids: list[int | None]) -> Sequence[RowMapping]:
    """Rows of a per-device table (check_net, check_disk_io) with the device's name, by device name."""
    q = (
        select(table, device_names.c.name)
        .join(device_names, device_names.c.id == table.c.device_id)
        .where(table.c.check_id.in_(ids))
        .order_by(table.c.check_id, device_names.c.name)
    )
    return conn.execute(q).mappings().all()


def _host_filter(conn: Connection, host: str) -> int | None:
    return dims.host_id(conn=conn, name=host, create=False)


def list_checks(
    *,
    conn: Connection,
    host: str,
    since: int | None = None,
    until: int | None = None,
    limit: int = 100,
    before: tuple[int, int] | None = None,
) -> list[Check]:
    """Checks of `host`, newest first; `before` = (taken_at, id) of the last item of the previous page."""
    hid = _host_filter(conn, host)
    if hid is None:
        return []
    q = select(*_CHECK_COLS).where(checks.c.host_id == hid)
    if since is not None:
        q = q.where(checks.c.taken_at >= since)
    if until is not None:
        q = q.where(checks.c.taken_at <= until)
    if before is not None:
        t, i = before
        q = q.where(or_(checks.c.taken_at < t, and_(checks.c.taken_at == t, checks.c.id < i)))
    q = q.order_by(checks.c.taken_at.desc(), checks.c.id.desc()).limit(limit)
    items = [codec.check_from_row(r, host) for r in conn.execute(q).mappings()]
    return _attach_children(conn, items)


def checks_after(*, conn: Connection, host: str, after_id: int, limit: int = 500) -> list[Check]:
    """Up to `limit` checks of `host` stored after check `after_id`, in the order they were stored
    (ids grow in commit order per host: its ingest lock serializes a host's writers)."""
    hid = _host_filter(conn, host)
    if hid is None:
        return []
    q = (
        select(*_CHECK_COLS)
        .where(checks.c.host_id == hid, checks.c.id > after_id)
        .order_by(checks.c.id)
        .limit(limit)
    )
    items = [codec.check_from_row(r, host) for r in conn.execute(q).mappings()]
    return _attach_children(conn, items)


def get_check(*, conn: Connection, check_id: int) -> Check | None:
    """One check by id, any host."""
    row = (
        conn.execute(
            select(*_CHECK_COLS, hosts.c.name)
            .join(hosts, hosts.c.id == checks.c.host_id)
            .where(checks.c.id == check_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return _attach_children(conn, [codec.check_from_row(row, row["name"])])[0]


def cpu_history(*, conn: Connection, host: str, size: int) -> list[tuple[int, float | None]]:
    """The newest `size` (taken_at, cpu percent) pairs of `host`, oldest first."""
    hid = _host_filter(conn, host)
    if hid is None or size == 0:
        return []
    q = (
        select(checks.c.taken_at, checks.c.cpu_pct)
        .where(checks.c.host_id == hid)
        .order_by(checks.c.taken_at.desc(), checks.c.id.desc())
        .limit(size)
    )
    rows = conn.execute(q).all()
    return [(int(t), codec.unpct(c)) for t, c in reversed(rows)]


def host_summaries(*, conn: Connection) -> list[tuple[str, int | None, int]]:
    """(host name, newest taken_at, number of checks) for every host; index seeks only.

    The count is the checks folded into rollups (hosts.checks_count, kept by the fold and by
    retention, so no write pays for it) plus the few not folded yet: those after the watermark,
    read from the host's index from the newest folded check on."""
    newest = select(func.max(checks.c.taken_at)).where(checks.c.host_id == hosts.c.id).scalar_subquery()
    # correlate(hosts): `mark` sits two subqueries deep, beyond automatic correlation.
    mark = (
        select(rollup_progress.c.last_check_id)
        .where(rollup_progress.c.host_id == hosts.c.id)
        .correlate(hosts)
        .scalar_subquery()
    )
    mark_taken = select(checks.c.taken_at).where(checks.c.id == mark).scalar_subquery()
    tail = (
        select(func.count())
        .select_from(checks)
        .where(
            checks.c.host_id == hosts.c.id,
            checks.c.taken_at >= func.coalesce(mark_taken, -(2**62)),
            checks.c.id > func.coalesce(mark, 0),
        )
        .scalar_subquery()
    )
    q = select(hosts.c.name, newest, hosts.c.checks_count + tail).order_by(hosts.c.name)
    return [(name, None if last is None else int(last), int(n or 0)) for name, last, n in conn.execute(q)]


def delete_checks_before(
    *, conn: Connection, host: str, cutoff: int, max_id: int | None = None, batch: int = 5000
) -> int:
    """Delete up to `batch` of `host`'s oldest checks taken before `cutoff` (and with id <= `max_id`)."""
    hid = _host_filter(conn, host)
    if hid is None:
        return 0
    ids = [
        r[0]
        for r in conn.execute(
            select(checks.c.id)
            .where(
                checks.c.host_id == hid,
                checks.c.taken_at < cutoff,
                checks.c.id <= (max_id if max_id is not None else 2**62),
            )
            .order_by(checks.c.taken_at)
            .limit(batch)
        )
    ]
    if not ids:
        return 0
    for child in _CHILD_TABLES:
        conn.execute(delete(child).where(child.c.check_id.in_(ids)))
    conn.execute(delete(checks).where(checks.c.id.in_(ids)))
    # Only folded checks (id <= the watermark) are in hosts.checks_count.
    mark = conn.execute(
        select(rollup_progress.c.last_check_id).where(rollup_progress.c.host_id == hid)
    ).scalar()
    counted = sum(1 for i in ids if i <= (mark or 0))
    if counted:
        conn.execute(
            update(hosts).where(hosts.c.id == hid).values(checks_count=hosts.c.checks_count - counted)
        )
    return len(ids)


__all__ = [
    "cpu_history",
    "delete_checks_before",
    "get_check",
    "host_summaries",
    "list_checks",
]
