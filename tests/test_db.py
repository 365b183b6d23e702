"""Migrations: the head is found without alembic, upgrades keep data, and host counts stay exact."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from checkd import store
from checkd.db import alembic_config, at_head, head_revision, make_engine, migrate
from checkd.probes import Check


def _checks(n: int, start: int = 1_000_000) -> list[Check]:
    return [Check(taken_at=start + i, cpu=1.0, memory=None, load=None) for i in range(n)]


def test_head_revision_matches_alembic(engine: Engine) -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert at_head(engine)


def _engine_at(db_url: str, revision: str) -> Engine:
    """An engine on `db_url` migrated only up to `revision`, as an older checkd left it."""
    eng = make_engine(db_url)
    cfg = alembic_config(eng)
    with eng.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    return eng


def test_upgrade_from_0002_backfills_host_counts(db_url: str) -> None:
    eng = _engine_at(db_url, "0002")
    # Rows written by a 0002-era checkd (no checks_count column yet).
    with eng.begin() as conn:
        conn.exec_driver_sql("INSERT INTO hosts (id, name) VALUES (1, 'old')")
        for i in range(5):
            conn.exec_driver_sql(f"INSERT INTO checks (host_id, taken_at) VALUES (1, {1000 + i})")
    assert not at_head(eng)
    migrate(eng)
    with eng.connect() as conn:
        assert store.host_summaries(conn=conn) == [("old", 1004, 5)]
    eng.dispose()


def test_host_counts_follow_inserts_and_retention(engine: Engine) -> None:
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="a", items=_checks(30))
        store.insert_checks(conn=conn, host="b", items=_checks(3))
    with engine.begin() as conn:
        assert store.delete_checks_before(conn=conn, host="a", cutoff=1_000_010) == 10
    with engine.connect() as conn:
        assert store.host_summaries(conn=conn) == [("a", 1_000_029, 20), ("b", 1_000_002, 3)]


def test_host_counts_are_kept_by_the_fold_and_include_checks_not_folded_yet(engine: Engine) -> None:
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="a", items=_checks(30))
        store.insert_checks(conn=conn, host="b", items=_checks(4))
        store.insert_checks(conn=conn, host="c", items=_checks(3))
        assert store.fold_new_checks(conn=conn, host="a") == 30
        assert store.fold_new_checks(conn=conn, host="b", batch=2) == 2
        store.insert_checks(conn=conn, host="a", items=_checks(5, start=1_000_030))
    with engine.connect() as conn:  # folded + not folded yet, per host (c: never folded)
        assert store.host_summaries(conn=conn) == [
            ("a", 1_000_034, 35),
            ("b", 1_000_003, 4),
            ("c", 1_000_002, 3),
        ]
    with engine.begin() as conn:
        assert store.fold_new_checks(conn=conn, host="a") == 5
        hid = store.host_id(conn=conn, name="a", create=False)
        assert hid is not None
        mark = store.watermark(conn=conn, host_id=hid)
        store.insert_checks(conn=conn, host="a", items=_checks(2, start=1_000_035))
        assert store.delete_checks_before(conn=conn, host="a", cutoff=1_000_010, max_id=mark) == 10
    with engine.connect() as conn:
        assert store.host_summaries(conn=conn)[0] == ("a", 1_000_036, 27)


def test_upgrade_to_0004_counts_what_was_folded(db_url: str) -> None:
    eng = _engine_at(db_url, "0003")
    # A 0003-era database: every check counted on write, the first 4 of 6 folded.
    with eng.begin() as conn:
        conn.exec_driver_sql("INSERT INTO hosts (id, name, checks_count) VALUES (1, 'old', 6)")
        for i in range(6):
            row = f"({i + 1}, 1, {1000 + i})"
            conn.exec_driver_sql(f"INSERT INTO checks (id, host_id, taken_at) VALUES {row}")
        conn.exec_driver_sql("INSERT INTO rollup_progress (host_id, last_check_id) VALUES (1, 4)")
    migrate(eng)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT checks_count FROM hosts").scalar() == 4
        assert store.host_summaries(conn=conn) == [("old", 1005, 6)]
    eng.dispose()
