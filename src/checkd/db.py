"""Engine factory, SQLite pragmas, and Alembic migration at start (once per database)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number: every checkd in a fleet takes this lock before migrating.
_PG_MIGRATION_LOCK = 0x636865636B64
# Page cache per SQLite connection, in KiB (SQLite's default is 2000): the pool opens up to 15
# connections under load, and full default caches cost 7-10 MiB more RSS on a 300 k-check
# database; history latency did not change (the OS page cache keeps the file's hot pages).
SQLITE_CACHE_KIB = 512
SQLITE_BUSY_TIMEOUT_MS = 5000  # how long a statement waits for another connection's write lock


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says why in one line."""


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _check_sqlite_dir(path: Path) -> None:
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"database: cannot create directory {directory}: {exc.strerror}") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DatabaseError(
            f"database: directory {directory} is not writable; SQLite needs it for {path.name} and its WAL"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseError(f"database: {path} is not readable and writable by this user")


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the API read while the sampler writes; NORMAL is durable across app crashes in WAL.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine for `url` (sqlite or postgresql+psycopg) with checkd's connection settings."""
    path = _sqlite_path(url)
    if path is not None:
        _check_sqlite_dir(path)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )
            event.listen(engine, "connect", _on_sqlite_connect)
        else:
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5},
            )
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"database.url: {exc}") from exc
    return engine


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config pointing at checkd's migrations, bound to `engine`."""
    from alembic.config import Config as AlembicConfig  # alembic is slow to import; only needed here

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest migration's revision id, read from the version files (no alembic import)."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision = ['\"]([^'\"]+)['\"]", text, re.M)
        down = re.search(r"^down_revision = ['\"]?([^'\"\n]+?)['\"]?$", text, re.M)
        if rev:
            revisions[rev.group(1)] = down.group(1) if down and down.group(1) != "None" else None
    parents = {d for d in revisions.values() if d}
    heads = [r for r in revisions if r not in parents]
    if len(heads) != 1:
        raise DatabaseError(f"database: migrations have {len(heads)} heads, expected 1")
    return heads[0]


def at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False
    return current == [head_revision()]


def migrate(engine: Engine) -> None:
    """Bring the schema to head; on PostgreSQL under an advisory lock so a fleet migrates once."""
    if at_head(engine):
        return  # the usual start: no need to load alembic (about 10 MB of memory) at all
    from alembic import command

    cfg = alembic_config(engine)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"database: cannot migrate {engine.url.render_as_string()}: {getattr(exc, 'orig', None) or exc}"
        ) from exc


def migrate_in_child(engine: Engine, timeout: float = 300) -> None:
    """Run `checkd db upgrade` in a child process, so the server never loads alembic (~10 MB RSS)."""
    if at_head(engine):
        return
    url = engine.url.render_as_string(hide_password=False)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "checkd", "db", "upgrade", "--database-url", url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise DatabaseError(f"database: migration did not finish in {timeout:.0f}s") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise DatabaseError(lines[-1].removeprefix("checkd: ") if lines else "database: migration failed")
