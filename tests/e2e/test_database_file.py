"""A real server's SQLite file deleted while it runs: noticed, said loudly, recreated, written to."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from checkd_process import CheckdProcess


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM checks").fetchone()[0])


@pytest.mark.parametrize("removed", [("checkd.db",), ("checkd.db", "checkd.db-wal", "checkd.db-shm")])
def test_a_deleted_database_file_is_recreated_and_healthz_says_so(
    make_server: Callable[..., CheckdProcess], tmp_path: Path, removed: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    server = make_server(data)
    db = data / "checkd.db"
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    assert server.get("/healthz").json()["status"] == "ok"
    for name in removed:
        (data / name).unlink(missing_ok=True)
    health = server.wait_for(
        lambda: (h := server.get("/healthz").json())["database"].startswith("recreated") and h
    )
    assert health["status"] == "degraded"
    assert str(db) in health["database"] and "was deleted" in health["database"]
    assert f"database file {db} was deleted while checkd ran" in server.log()
    assert db.exists()
    server.wait_for(lambda: _count(db) >= 2, timeout=15)  # new checks land in the new file
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert server.get("/api/v2/checks/latest").status_code == 200
    assert server.get("/api/v2/hosts").json()[0]["checks"] >= 1
    assert server.get("/healthz").json()["status"] == "degraded", "until the restart, the loss stays visible"
    assert "Traceback" not in server.log()
    assert server.stop() == 0
    again = make_server(data)
    assert again.get("/healthz").json()["status"] == "ok"
    again.wait_for(lambda: again.get("/api/v2/sampler").json()["checks_total"] >= 1)
    assert _count(db) >= 3


def test_a_missing_database_file_at_start_is_said(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    server = make_server(tmp_path / "data")
    assert (
        f"database {tmp_path / 'data' / 'checkd.db'} does not exist; creating a new, empty one"
        in server.log()
    )
