"""While PostgreSQL is down (a real cluster, stopped), every reason names the host and port in one line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from checkd.db import DatabaseError, describe_database_error, make_engine, migrate
from checkd_process import CheckdProcess
from pg_server import PostgresServer, pg_bin_dir


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of this test's own, so stopping it disturbs no other test."""
    if pg_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed; `make test` as root installs it")
    server = PostgresServer().start()
    yield server
    server.destroy()


def refused(port: int) -> re.Pattern[str]:
    return re.compile(rf"cannot connect to PostgreSQL at 127\.0\.0\.1:{port}: connection refused$")


def test_migrate_against_a_stopped_server_names_host_port_and_reason(own_postgres: PostgresServer) -> None:
    url = own_postgres.create_database()
    own_postgres.stop()
    with pytest.raises(DatabaseError) as caught:
        migrate(make_engine(url))
    message = str(caught.value)
    assert "\n" not in message and "\t" not in message
    assert refused(own_postgres.port).search(message), message


def test_healthz_while_postgres_is_down_at_start_and_later(
    own_postgres: PostgresServer, make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    url = own_postgres.create_database()
    own_postgres.stop()
    server = make_server(tmp_path / "d", args=("--database-url", url))
    database = server.wait_for(lambda: _unavailable(server))
    assert "\t" not in database and "Is the server running" not in database
    assert refused(own_postgres.port).search(database), database

    own_postgres.start()
    server.wait_for(lambda: server.get("/healthz").json()["database"] == "ok", timeout=60)
    server.wait_for(lambda: server.get("/api/v2/checks/latest").status_code == 200)
    own_postgres.stop()
    r = server.wait_for(lambda: _503(server))
    assert refused(own_postgres.port).search(r), r
    # Once the sampler's writes fail, /healthz gives their reason: one line, host, port, refused
    # (the first failure is the held connection being terminated; the retries are refused).
    later = server.wait_for(lambda: "refused" in (_unavailable(server) or "") and _unavailable(server))
    assert "\t" not in later and "127.0.0.1" in later and str(own_postgres.port) in later, later
    assert "connection refused" in later.lower(), later


def _unavailable(server: CheckdProcess) -> str | None:
    database = str(server.get("/healthz").json()["database"])
    return database if database.startswith("unavailable: ") and "starting up" not in database else None


def _503(server: CheckdProcess) -> str | None:
    """The detail of a read that needs the database, once it answers 503."""
    r = server.get("/api/v2/hosts")
    return str(r.json()["detail"]) if r.status_code == 503 else None


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            'connection failed: connection to server at "10.0.0.9", port 5432 failed: timeout expired',
            "connection timed out",
        ),
        ('could not translate host name "db" to address: Name or service not known', "unknown host name"),
        ('FATAL:  password authentication failed for user "checkd"', "password authentication failed"),
    ],
)
def test_describe_database_error_words(message: str, reason: str) -> None:
    url = make_url("postgresql+psycopg://checkd@db.example:6543/checkd")
    text = describe_database_error(RuntimeError(message + "\n\tIs the server running?"), url)
    assert text == f"database: cannot connect to PostgreSQL at db.example:6543: {reason}"
