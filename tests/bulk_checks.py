"""Bulk-loads synthetic checks into a migrated SQLite store: one INSERT ... SELECT per table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from checkd import store
from checkd.db import make_engine, migrate

# One check a second: cpu and memory vary with the second, one disk "/" and one service "httpd".
_CHECKS = """
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
INSERT INTO checks (host_id, taken_at, cpu_pct, load1, load5, load15,
                    mem_total_kib, mem_available_kib, mem_used_kib, mem_pct)
SELECT :host, :start + i, (i * 37) % 10001, i % 400, i % 300, i % 200,
       24000000, 20000000 - i % 1000, 3000000 + i % 1000, 1667 + i % 50
FROM seq
"""
_DISKS = """
INSERT INTO check_disks (check_id, path_id, total_kib, used_kib, free_kib, pct)
SELECT id, :path, 260000000, 24000000, 223000000, 971 FROM checks WHERE host_id = :host AND id > :after
"""
_SERVICES = """
INSERT INTO check_services (check_id, service_id, state)
SELECT id, :service, 1 FROM checks WHERE host_id = :host AND id > :after
"""


def load_checks(db: Path, n: int, *, host: str, end_at: int) -> None:
    """Migrate `db` and add `n` checks of `host`, one a second, the last taken at `end_at`."""
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with engine.begin() as conn:
        ids = {
            "host": store.host_id(conn=conn, name=host),
            "path": store.dims.path_id(conn=conn, path="/"),
            "service": store.dims.service_id(conn=conn, name="httpd"),
        }
    engine.dispose()
    with sqlite3.connect(db, isolation_level=None) as con:
        con.execute("BEGIN")
        (after,) = con.execute("SELECT coalesce(max(id), 0) FROM checks").fetchone()
        con.execute(_CHECKS, {"n": n, "host": ids["host"], "start": end_at - n + 1})
        con.execute(_DISKS, {"path": ids["path"], "host": ids["host"], "after": after})
        con.execute(_SERVICES, {"service": ids["service"], "host": ids["host"], "after": after})
        con.execute("COMMIT")
    con.close()
