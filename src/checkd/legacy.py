"""Import of the exam system's SQLite database: prose-string rows parsed into numeric checks."""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine

from checkd import store
from checkd.probes import Check, DiskUsage, MemoryUsage
from checkd.vocabulary import SERVICE_STATES, ServiceState

_CPU = re.compile(r"CPU PERCENTAGE\(\s*([^%()]*?)\s*%\s*\)")
_SVMEM = re.compile(r"svmem\(([^)]*)\)")
_DISK = re.compile(r"Total:\s*(-?\d+)\s*,\s*Free:\s*(-?\d+)\s*,\s*Used:\s*(-?\d+)")
_HTTPD = re.compile(r"Active:\s*([a-z-]+)")
BATCH = 1000  # rows in the first transaction; store.Pacer sizes the later ones


class LegacyFileError(Exception):
    """The file is not an exam-system database; nothing was written."""


@dataclass(frozen=True)
class LegacyRow:
    """One row of the exam system's `check` table, as stored (prose strings)."""

    id: int
    cpu: str | None
    memory: str | None
    disk: str | None
    httpd: str | None


@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    imported: int = 0
    already: int = 0
    malformed: list[tuple[int, str]] | None = None

    def skipped_by_reason(self) -> dict[str, int]:
        """How many rows were skipped for each reason (the text before the value), most first."""
        counts = Counter(what.split(": ", 1)[0] for _, what in self.malformed or [])
        return dict(counts.most_common())


def read_legacy_rows(path: Path) -> list[LegacyRow]:
    """All rows of the `check` table, by id; LegacyFileError when the file is not such a database."""
    if not path.is_file():
        raise LegacyFileError(f"{path}: no such file")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute('SELECT id, cpu, memory, disk, httpd FROM "check" ORDER BY id').fetchall()
    except sqlite3.DatabaseError as exc:
        raise LegacyFileError(f"{path}: not an exam-system database ({exc})") from None
    return [LegacyRow(int(r[0]), *(None if v is None else str(v) for v in r[1:])) for r in rows]


# The widest byte count the store holds: KiB in a signed 64-bit column.
_MAX_BYTES = (2**63 - 1) * 1024


class RowRejected(ValueError):
    """A legacy row that cannot be stored: `reason` groups it in the summary, str() adds the value."""

    def __init__(self, reason: str, value: str | None) -> None:
        shown = value if value is None or len(value) <= 120 else value[:117] + "..."
        super().__init__(f"{reason}: {shown!r}")
        self.reason = reason


def _percent(text: str, field: str, value: str | None) -> float:
    """A percentage 0..100 (finite); RowRejected naming `field` otherwise."""
    try:
        number = float(text)
    except ValueError:
        raise RowRejected(f"{field} not a number", value) from None
    if not 0.0 <= number <= 100.0:  # also false for nan
        raise RowRejected(f"{field} outside 0..100", value)
    return number


def _bytes(text: str, field: str, value: str | None) -> int:
    """A byte count that fits the store's columns; RowRejected naming `field` otherwise."""
    try:
        number = int(text)
    except ValueError:
        raise RowRejected(f"{field} not an integer", value) from None
    if not 0 <= number <= _MAX_BYTES:
        raise RowRejected(f"{field} does not fit 0..2^63 KiB", value)
    return number


def parse_row(row: LegacyRow, taken_at: float) -> Check:
    """The Check a legacy row describes; RowRejected (a ValueError) saying which field is wrong and why."""
    cpu = _CPU.search(row.cpu or "")
    if cpu is None:
        raise RowRejected("cpu unparsable", row.cpu)
    cpu_pct = _percent(cpu.group(1), "cpu percent", row.cpu)
    mem = _SVMEM.search(row.memory or "")
    fields = dict(kv.strip().split("=", 1) for kv in mem.group(1).split(",") if "=" in kv) if mem else {}
    if not {"total", "available", "used", "percent"} <= fields.keys():
        raise RowRejected("memory unparsable", row.memory)
    memory = MemoryUsage(
        total=_bytes(fields["total"], "memory total", row.memory),
        available=_bytes(fields["available"], "memory available", row.memory),
        used=_bytes(fields["used"], "memory used", row.memory),
        percent=_percent(fields["percent"], "memory percent", row.memory),
    )
    disk = _DISK.search(row.disk or "")
    if disk is None:
        raise RowRejected("disk unparsable", row.disk)
    total, free, used = (
        _bytes(g, f"disk {n}", row.disk)
        for g, n in zip(disk.groups(), ("total", "free", "used"), strict=True)
    )
    percent = round(used / (used + free) * 100, 1) if used + free else 0.0  # psutil's definition
    httpd = _HTTPD.search(row.httpd or "")
    state = httpd.group(1) if httpd and httpd.group(1) in SERVICE_STATES else ServiceState.UNKNOWN
    return Check(
        taken_at=taken_at,
        cpu=cpu_pct,
        memory=memory,
        load=None,
        disks=[DiskUsage(path="/", total=total, used=used, free=free, percent=percent)],
        services={"httpd": state},
    )


def import_legacy(
    *,
    engine: Engine,
    path: Path,
    host: str,
    interval_s: int,
    ended_at: float,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import `path` under `host`, the last row at `ended_at` and each earlier one `interval_s` before.

    Rows already imported under `host` are skipped; malformed ones are reported by id and skipped."""
    rows = read_legacy_rows(path)
    report = ImportReport(rows=len(rows), malformed=[])
    assert report.malformed is not None
    with engine.connect() as conn:
        done = store.imported_legacy_ids(conn=conn, host=host)
    todo: list[tuple[int, Check]] = []
    for position, row in enumerate(rows):
        if row.id in done:
            report.already += 1
            continue
        try:
            todo.append((row.id, parse_row(row, ended_at - (len(rows) - 1 - position) * interval_s)))
        except ValueError as exc:
            report.malformed.append((row.id, str(exc)))
    # Paced transactions (store.Pacer): a checkd serving this database keeps writing in between.
    pending = iter(todo)

    def insert_next(conn: Connection, batch: int) -> int:
        chunk = list(itertools.islice(pending, batch))
        store.insert_checks(conn=conn, host=host, items=[c for _, c in chunk])
        store.mark_legacy_imported(conn=conn, host=host, legacy_ids=[i for i, _ in chunk])
        return len(chunk)

    def imported(rows: int) -> None:
        report.imported += rows
        if progress is not None and rows:
            progress(rows)

    store.Pacer(start=BATCH, pieces=store.PIECES).run(engine, insert_next, committed=imported)
    # Each checkd folds only its own host's rollups, and nobody runs as the imported host: fold
    # here, or long-range history of the import would read empty tiers.
    store.Pacer(start=5000).run(
        engine, lambda conn, batch: store.fold_new_checks(conn=conn, host=host, batch=batch)
    )
    return report
