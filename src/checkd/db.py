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
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed 64-bit number: every checkd in a fleet takes this lock before migrating.
_PG_MIGRATION_LOCK = 0x636865636B64
# Page cache per SQLite connection, in KiB (SQLite's default is 2000): the pool opens up to 15
# connections under load, and full default caches add up in RSS on a large database; history
# latency did not change (the OS page cache keeps the file's hot pages).
SQLITE_CACHE_KIB = 512
SQLITE_BUSY_TIMEOUT_MS = 5000  # how long a statement waits for another connection's write lock


class DatabaseError(Exception):
    """The database cannot be opened or migrated; the message says why in one line."""


# libpq's wording for common connection failures, and how checkd says them (one line).
_CONNECT_FAILURES = (
    ("connection refused", "connection refused"),
    ("timeout expired", "connection timed out"),
    ("could not translate host name", "unknown host name"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "network unreachable"),
    ("password authentication failed", "password authentication failed"),
)


def describe_database_error(exc: BaseException, url: URL) -> str:
    """One line saying which database failed and why, e.g. "... at 127.0.0.1:5432: connection refused"."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    if url.get_backend_name() == "sqlite":
        where = f"SQLite database {url.database}"
    else:
        where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    lowered = text.lower()
    for needle, reason in _CONNECT_FAILURES:
        if needle in lowered:
            return f"database: cannot connect to {where}: {reason}"
    first = text.splitlines()[0] if text else type(orig).__name__
    return f"database: {where}: {first}"


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
        return  # the usual start: no need to load alembic (and its memory) at all
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
        raise DatabaseError(describe_database_error(exc, engine.url)) from exc


def migrate_in_child(engine: Engine, timeout: float = 300) -> None:
    """Run `checkd db upgrade` in a child process, so the server never keeps alembic in memory."""
    if at_head(engine):
        return
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:  # unreachable: say where and why, without starting a child
        raise DatabaseError(describe_database_error(exc, engine.url)) from exc
    upgrade_in_child(engine, timeout)


def upgrade_in_child(engine: Engine, timeout: float = 300) -> None:
    """Run `checkd db upgrade` on `engine`'s database in a child process (opens no connection here)."""
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


class SqliteFileWatch:
    """Notices the SQLite file a process writes to being deleted or replaced under it: the writes
    would go on into a file nobody can open again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def remember(self) -> None:
        """The file now at the path is the one in use."""
        self._seen = self._identity()

    def problem(self) -> str | None:
        """'deleted' or 'replaced by another file' when the path no longer holds the file in use."""
        now = self._identity()
        if now == self._seen or self._seen is None:
            return None
        return "deleted" if now is None else "replaced by another file"

    def remove_orphan_journal(self) -> list[Path]:
        """With the database file gone, delete its -wal and -shm (a new file must not replay them)."""
        if self.path.exists():
            return []
        removed = []
        for suffix in ("-wal", "-shm"):
            orphan = self.path.with_name(self.path.name + suffix)
            if orphan.exists():
                orphan.unlink()
                removed.append(orphan)
        return removed


def sqlite_file_watch(engine: Engine) -> SqliteFileWatch | None:
    """A watch on `engine`'s SQLite file, or None (PostgreSQL, in-memory SQLite)."""
    path = _sqlite_path(engine.url.render_as_string(hide_password=False))
    return None if path is None else SqliteFileWatch(path)
