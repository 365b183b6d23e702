"""`checkd import-legacy` against an exam-system database built here from its description."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine

from checkd import store
from checkd.legacy import LegacyFileError, import_legacy, read_legacy_rows
from checkd_process import run_cli

MEMORY = (
    "MEMORY USAGE( svmem(total=1912107008, available=1488134144, percent=22.2, used=270098432, "
    "free=1491259392, active=210128896, inactive=74883072, buffers=970752, cached=149778432, shared=9023488))"
)
DISK = "DISK USAGE( Total: 18238930944 , Free: 16790462464 , Used: 1448468480 )"


def make_legacy_db(
    path: Path,
    rows: int,
    *,
    malformed: tuple[int, ...] = (),
    replace: dict[int, dict[str, str]] | None = None,
) -> Path:
    """An exam-system database: table `check` (id INTEGER; cpu, memory, disk, httpd VARCHAR).

    `replace` gives some rows other column texts, e.g. {3: {"cpu": "CPU PERCENTAGE( 500% )"}}."""
    with sqlite3.connect(path) as db:
        db.execute(
            'CREATE TABLE "check" (id INTEGER NOT NULL PRIMARY KEY, cpu VARCHAR, memory VARCHAR, '
            "disk VARCHAR, httpd VARCHAR)"
        )
        for i in range(1, rows + 1):
            cpu = "CPU PERCENTAGE( garbage )" if i in malformed else f"CPU PERCENTAGE( {i % 100 / 10}% )"
            state = "active (running)" if i % 2 else "inactive (dead)"
            texts = {"cpu": cpu, "memory": MEMORY, "disk": DISK}
            texts.update((replace or {}).get(i, {}))
            db.execute(
                'INSERT INTO "check" VALUES (?, ?, ?, ?, ?)',
                (
                    i,
                    texts["cpu"],
                    texts["memory"],
                    texts["disk"],
                    f"HTTPD SERVICE STATUS(    Active: {state} )",
                ),
            )
    os.utime(path, (1_800_000_000, 1_800_000_000))
    return path


def test_import_parses_every_field_and_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    path = make_legacy_db(tmp_path / "exam.db", 250, malformed=(7,))
    report = import_legacy(engine=engine, path=path, host="legacy", interval_s=60, ended_at=1_800_000_000)
    assert (report.rows, report.imported, report.malformed) == (
        250,
        249,
        [(7, "cpu unparsable: 'CPU PERCENTAGE( garbage )'")],
    )
    with engine.connect() as conn:
        items = store.list_checks(conn=conn, host="legacy", limit=1000)
    assert len(items) == 249
    newest, oldest = items[0], items[-1]
    assert newest.taken_at == 1_800_000_000 and oldest.taken_at == 1_800_000_000 - 249 * 60
    assert newest.cpu == 5.0 and newest.services == {"httpd": "inactive"}
    assert items[1].services == {"httpd": "active"}
    assert newest.memory is not None and newest.memory.total == 1912107008 and newest.memory.percent == 22.2
    disk = newest.disks[0]
    assert (disk.total, disk.free, disk.used) == (18238930944, 16790462464, 1448468480)
    assert disk.percent == 7.9
    with engine.connect() as conn:  # folded into rollups: a 4 h range at 5 points reads a rollup tier
        rolled = store.series(
            conn=conn,
            host="legacy",
            metric="cpu_percent",
            qualifier=None,
            since=int(oldest.taken_at),
            until=int(newest.taken_at),
            points=5,
            now=1_800_000_000,
            keep=store.Retentions(raw=30 * 86400, minute=180 * 86400),
        )
    assert rolled.resolution_s >= 60 and 1 <= len(rolled.points) <= 5

    again = import_legacy(engine=engine, path=path, host="legacy", interval_s=30, ended_at=1_900_000_000)
    assert (again.imported, again.already) == (0, 249)
    with engine.connect() as conn:
        assert len(store.list_checks(conn=conn, host="legacy", limit=1000)) == 249


@pytest.mark.parametrize("kind", ["text", "wrong-schema"])
def test_bad_file_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.db"
    if kind == "text":
        path.write_text("this is not sqlite\n" * 100)
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE checks (id INTEGER, value TEXT)")
    with pytest.raises(LegacyFileError, match="not an exam-system database"):
        read_legacy_rows(path)


def test_cli_import_reports_and_refuses(tmp_path: Path) -> None:
    path = make_legacy_db(tmp_path / "exam.db", 30, malformed=(3, 11))
    data = tmp_path / "data"
    first = run_cli("import-legacy", str(path), "--data-dir", str(data), "--interval", "10")
    assert first.returncode == 0, first.stderr
    assert "28 checks imported" in first.stdout
    assert "skipped row 3" in first.stderr and "skipped row 11" in first.stderr
    assert "skipped 2 rows: cpu unparsable" in first.stderr
    second = run_cli("import-legacy", str(path), "--data-dir", str(data))
    assert second.returncode == 0 and "0 checks imported" in second.stdout and "28 already" in second.stdout

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00garbage" * 1000)
    other = tmp_path / "other"
    refused = run_cli("import-legacy", str(bad), "--data-dir", str(other))
    assert refused.returncode == 2
    assert "not an exam-system database" in refused.stderr and "Traceback" not in refused.stderr
    assert not (other / "checkd.db").exists(), "nothing written"
    wrong_time = run_cli("import-legacy", str(path), "--data-dir", str(other), "--ended-at", "yesterday")
    assert wrong_time.returncode == 2 and "--ended-at" in wrong_time.stderr


# Rows the exam system really holds now and then: each is skipped with its reason, the rest land.
BAD_ROWS = {
    2: ({"memory": MEMORY.replace("percent=22.2", "percent=nan")}, "memory percent outside 0..100"),
    3: ({"disk": DISK.replace("18238930944", "1" * 30)}, "disk total does not fit 0..2^63 KiB"),
    4: ({"cpu": "CPU PERCENTAGE( 500% )"}, "cpu percent outside 0..100"),
    5: ({"cpu": "CPU PERCENTAGE( -5% )"}, "cpu percent outside 0..100"),
    6: ({"memory": MEMORY.replace("percent=22.2", "percent=101")}, "memory percent outside 0..100"),
    7: ({"memory": MEMORY.replace("total=1912107008", "total=-1")}, "memory total does not fit 0..2^63 KiB"),
    8: ({"cpu": "CPU PERCENTAGE( 1.2.3% )"}, "cpu percent not a number"),
    9: ({"cpu": "CPU PERCENTAGE( 100% )"}, ""),  # the bounds themselves are fine
    10: ({"cpu": "CPU PERCENTAGE( 0% )", "memory": MEMORY.replace("percent=22.2", "percent=100.0")}, ""),
}


def test_bad_rows_are_skipped_with_their_reason_and_the_rest_imported(engine: Engine, tmp_path: Path) -> None:
    replace = {i: texts for i, (texts, _) in BAD_ROWS.items()}
    path = make_legacy_db(tmp_path / "exam.db", 12, replace=replace)
    report = import_legacy(engine=engine, path=path, host="legacy", interval_s=60, ended_at=1_800_000_000)
    expected = {i: why for i, (_, why) in BAD_ROWS.items() if why}
    assert {i: what.split(": ")[0] for i, what in report.malformed or []} == expected
    assert report.imported == 12 - len(expected)
    assert report.skipped_by_reason() == {
        "memory percent outside 0..100": 2,
        "cpu percent outside 0..100": 2,
        "disk total does not fit 0..2^63 KiB": 1,
        "memory total does not fit 0..2^63 KiB": 1,
        "cpu percent not a number": 1,
    }
    with engine.connect() as conn:
        stored = store.list_checks(conn=conn, host="legacy", limit=100)
    assert len(stored) == report.imported and {c.cpu for c in stored} >= {100.0, 0.0}


def test_cli_summarises_skipped_rows_by_reason_without_a_traceback(tmp_path: Path) -> None:
    replace = {i: texts for i, (texts, _) in BAD_ROWS.items()}
    path = make_legacy_db(tmp_path / "exam.db", 12, replace=replace)
    done = run_cli("import-legacy", str(path), "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "5 checks imported" in done.stdout and "7 malformed rows skipped (of 12)" in done.stdout
    assert "skipped 2 rows: cpu percent outside 0..100" in done.stderr
    assert "skipped 1 row: disk total does not fit 0..2^63 KiB" in done.stderr
    assert "skipped row 2: memory percent outside 0..100" in done.stderr
