"""PostgreSQL as the fleet's shared store: concurrent migration, several hosts, a restart, an outage."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from checkd_process import CheckdProcess, free_port
from pg_server import PostgresServer


def _server(tmp_path: Path, name: str, url: str, **kw: object) -> CheckdProcess:
    return CheckdProcess(tmp_path / name, args=("--database-url", url, "--host-name", name), **kw)  # type: ignore[arg-type]


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_ten_processes_migrate_once_and_all_run(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    servers = [_server(tmp_path, f"host{i}", url) for i in range(10)]
    try:
        for s in servers:  # launched back to back, before any has migrated
            s.start(wait=False)
        for s in servers:
            s.wait_healthy(timeout=90)
        for s in servers:
            s.wait_for(lambda s=s: s.get("/healthz").json()["database"] == "ok", timeout=60)
        with psycopg.connect(_dsn(url)) as conn:
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
            conn.execute("SELECT 1")
        hosts = servers[0].wait_for(
            lambda: (
                len(r := servers[0].get("/api/v2/hosts").json()) == 10
                and all(h["checks"] > 0 for h in r)
                and r
            ),
            timeout=60,
        )
        assert sorted(h["name"] for h in hosts) == sorted(f"host{i}" for i in range(10))
        for s in servers:
            assert "Traceback" not in s.log()
    finally:
        for s in servers:
            s.close()


def test_three_hosts_read_from_any(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    servers = [_server(tmp_path, name, url).start() for name in ("alpha", "beta", "gamma")]
    try:
        for reader in servers:
            names = reader.wait_for(
                lambda r=reader: (
                    {h["name"] for h in r.get("/api/v2/hosts").json() if h["checks"] > 0}
                    == {"alpha", "beta", "gamma"}
                )
            )
            assert names
            for name in ("alpha", "beta", "gamma"):
                latest = reader.get("/api/v2/checks/latest", params={"host": name})
                assert latest.status_code == 200 and latest.json()["host"] == name
                page = reader.get("/api/v2/checks", params={"host": name, "limit": 5}).json()
                assert page["items"] and {c["host"] for c in page["items"]} == {name}
        assert servers[0].get("/api/v2/checks/latest", params={"host": "nope"}).status_code == 404
    finally:
        for s in servers:
            s.close()


def test_postgres_restart_loses_nothing(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    server = _server(tmp_path, "solo", url).start()
    try:
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
        postgres.stop()
        time.sleep(4)  # checks wait in memory meanwhile
        status = server.get("/api/v2/sampler").json()
        assert status["pending_writes"] >= 2 and status["errors_total"] >= 1 and status["last_error"]
        assert server.get("/healthz").json()["sampler"] == "failing"
        postgres.start()
        server.wait_for(lambda: server.get("/api/v2/sampler").json()["pending_writes"] == 0, timeout=30)
        server.post("/api/v2/sampler/stop", headers=server.auth())
        taken = server.get("/api/v2/sampler").json()["checks_total"]
        with psycopg.connect(_dsn(url)) as conn:
            rows = conn.execute("SELECT id, taken_at FROM checks ORDER BY id").fetchall()
        assert len(rows) == taken, "every check taken landed"
        times = [t for _, t in rows]
        assert times == sorted(times), "in order"
        assert server.get("/healthz").json()["database"] == "ok"
    finally:
        server.close()
        if postgres.pid is None:
            postgres.start()


def test_unreachable_database_waits_and_says_so(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    server = make_server(tmp_path / "d", args=("--database-url", url))
    health = server.get("/healthz").json()
    assert health["status"] == "degraded" and health["database"].startswith("unavailable")
    assert server.get("/api/v2/checks/latest").status_code == 503
    server.wait_for(lambda: "retrying in" in server.log())
