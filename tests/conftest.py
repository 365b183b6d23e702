"""Shared fixtures: real checkd servers on loopback ports, real SQLite files and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from checkd.db import make_engine, migrate
from checkd_process import CheckdProcess
from pg_server import PostgresServer, pg_bin_dir
from receiver import Receiver


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., CheckdProcess]]:
    """Factory for started `checkd serve` processes; every one is stopped at teardown."""
    started: list[CheckdProcess] = []

    def make(data_dir: Path | None = None, **kw: Any) -> CheckdProcess:
        server = CheckdProcess(data_dir or tmp_path / f"data{len(started)}", **kw)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., CheckdProcess]) -> CheckdProcess:
    """One running server sampling every second."""
    return make_server()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL started for this test session (skipped, saying why, when not installed)."""
    if pg_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed; `make test` as root installs it")
    server = PostgresServer().start()
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database: a SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    pg: PostgresServer = request.getfixturevalue("postgres")
    return pg.create_database()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on `db_url`."""
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(postgres: PostgresServer) -> Iterator[Engine]:
    """A migrated engine on a new database of the session's PostgreSQL."""
    eng = make_engine(postgres.create_database())
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated engine on a new SQLite file."""
    eng = make_engine(f"sqlite:///{tmp_path / 'checkd.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def receivers() -> Iterator[Callable[[], Receiver]]:
    """Factory of started receivers; all are stopped at teardown."""
    made: list[Receiver] = []

    def make() -> Receiver:
        receiver = Receiver().start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()
