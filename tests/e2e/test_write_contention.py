"""A real server sampling every second while a big writer works on its database (issue 15).

The big writers are real: `checkd import-legacy` of a 200,000-row exam-system database into the
server's own data dir (SQLite) or database (PostgreSQL), and the server's own upkeep folding the
rollups of 1,000,000 checks bulk-loaded before it started. During each, no slot is missed, no
write fails, every second has its stored check, and no write waits long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulk_checks import load_checks
from checkd_process import CheckdProcess, run_cli
from pg_server import PostgresServer
from test_legacy import make_legacy_db

HOST = "contended"
IMPORT_ROWS = 200_000
BULK_CHECKS = 1_000_000
MAX_WRITE_WAIT_S = 0.5  # two stored checks at most 1.5 s apart at a 1 s interval


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def stored_seconds(server: CheckdProcess, since: float, until: float) -> set[int]:
    """The whole seconds in which HOST has a stored check, between `since` and `until`."""
    r = server.get(
        "/api/v2/checks",
        params={"host": HOST, "since": _iso(since), "until": _iso(until), "limit": 10000},
    )
    assert r.status_code == 200, r.text
    return {int(datetime.fromisoformat(c["taken_at"]).timestamp()) for c in r.json()["items"]}


def assert_undisturbed(server: CheckdProcess, since: float, until: float) -> dict[str, Any]:
    """No missed slot, no error, a check stored for every second of the window, short writes."""
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["pending_writes"] == 0)
    st = server.get("/api/v2/sampler").json()
    assert st["missed_slots_total"] == 0, st
    assert st["errors_total"] == 0, st
    assert st["longest_write_wait_s"] <= MAX_WRITE_WAIT_S, st
    window = set(range(int(since) + 1, int(until)))
    missing = sorted(window - stored_seconds(server, since, until))
    assert not missing, f"no check stored for {len(missing)} of {len(window)} seconds: {missing[:10]}"
    assert "database is locked" not in server.log()
    return dict(st)


def run_import(server: CheckdProcess, legacy: Path, *target: str) -> tuple[float, float]:
    """`checkd import-legacy` of `legacy` into `target`; (start, end) wall times."""
    started = time.time()
    done = run_cli("import-legacy", str(legacy), "--interval", "1", *target, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{IMPORT_ROWS} checks imported" in done.stdout
    return started, time.time()


def test_an_import_into_the_data_dir_disturbs_no_check(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    legacy = make_legacy_db(tmp_path / "exam.db", IMPORT_ROWS)
    server = make_server(tmp_path / "data", args=("--host-name", HOST))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    since, until = run_import(server, legacy, "--data-dir", str(tmp_path / "data"))
    assert until - since > 3, "the import was too short to contend with the sampler"
    assert_undisturbed(server, since, until)


def test_a_fold_catch_up_of_a_million_checks_disturbs_no_check(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    load_checks(data / "checkd.db", BULK_CHECKS, host=HOST, end_at=int(time.time()) - 5)
    server = make_server(data, args=("--host-name", HOST))
    since = time.time()  # the upkeep started folding as the server opened its database
    upkeep = server.wait_for(
        lambda: (u := server.get("/api/v2/upkeep").json())["last_fold_at"] is not None and u, timeout=120
    )
    until = datetime.fromisoformat(upkeep["last_fold_at"]).timestamp()  # the catch-up's end
    assert until - since > 3, "the catch-up was too short to contend with the sampler"
    assert upkeep["folded_total"] >= BULK_CHECKS, upkeep
    assert upkeep["errors_total"] == 0, upkeep
    assert_undisturbed(server, since, until)


def test_an_import_into_postgresql_disturbs_no_check(
    make_server: Callable[..., CheckdProcess], postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    legacy = make_legacy_db(tmp_path / "exam.db", IMPORT_ROWS)
    server = make_server(args=("--host-name", HOST, "--database-url", url))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2, timeout=30)
    since, until = run_import(server, legacy, "--database-url", url)
    assert_undisturbed(server, since, until)
