"""A real server sampling every second while a big writer works on its database (issue 15).

The big writers are real: `checkd import-legacy` of a 200,000-row exam-system database into the
server's own data dir (SQLite) or database (PostgreSQL), and the server's own upkeep folding the
rollups of 1,000,000 checks bulk-loaded before it started. During each, no slot is missed, no
write fails, every check taken is stored, and no write waits long.

How long a write may wait is a wall-time bound, and a loaded machine (more runnable threads than
cores) runs every thread late: the bound is MAX_WRITE_WAIT_S plus a few times the worst scheduling
delay measured beside the big writer in the same run (about a millisecond on a quiet machine).
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
from scheduling_delay import SchedulingDelay
from test_legacy import make_legacy_db

HOST = "contended"
IMPORT_ROWS = 200_000
BULK_CHECKS = 1_000_000
MAX_WRITE_WAIT_S = 0.5  # two stored checks at most 1.5 s apart at a 1 s interval
# The wake-ups in a waiting write's hand-off (the writer's busy handler, the server's GIL, the bulk
# writer committing after its piece, the writer's next try); each is as late as the machine makes
# it. Issue 15's defect made writes wait seconds (or fail) on a quiet machine: still caught.
WAKEUPS = 4


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def stored_taken_at(server: CheckdProcess, since: float) -> list[float]:
    """When each of HOST's stored checks taken after `since` was taken, in order."""
    r = server.get("/api/v2/checks", params={"host": HOST, "since": _iso(since), "limit": 10000})
    assert r.status_code == 200, r.text
    return sorted(datetime.fromisoformat(c["taken_at"]).timestamp() for c in r.json()["items"])


def assert_undisturbed(
    server: CheckdProcess, started: float, window: tuple[float, float], delay: SchedulingDelay
) -> dict[str, Any]:
    """No missed slot, no error, every check this server (up since `started`) took is stored, one
    within each interval of the big writer's `window`, and short writes."""
    st = server.wait_for(lambda: (s := server.get("/api/v2/sampler").json())["pending_writes"] == 0 and s)
    assert st["missed_slots_total"] == 0, st
    assert st["errors_total"] == 0, st
    bound = MAX_WRITE_WAIT_S + WAKEUPS * delay.worst_s
    assert st["longest_write_wait_s"] <= bound, (bound, delay.worst_s, st)
    taken = stored_taken_at(server, started)
    assert len(taken) >= st["checks_total"], f"{st['checks_total']} checks taken, {len(taken)} stored"
    # Not "a check in every whole second": taken_at is stored in whole seconds, and a check taken
    # late in its slot shares its second with the next one. Slots less than 2 intervals apart are
    # at most 2 whole seconds apart; a slot without its check is missed_slots_total's to count.
    since, until = window
    inside = [t for t in taken if since <= t <= until]
    gaps = [b - a for a, b in zip([since, *inside], [*inside, until], strict=True)]
    assert max(gaps) <= 2 * st["interval_s"], f"a gap of {max(gaps):.2f} s between stored checks"
    assert "database is locked" not in server.log()
    return dict(st)


def run_import(legacy: Path, *target: str) -> tuple[tuple[float, float], SchedulingDelay]:
    """`checkd import-legacy` of `legacy` into `target`: its (start, end) wall times, and how late
    the machine ran a thread meanwhile."""
    started = time.time()
    with SchedulingDelay() as delay:
        done = run_cli("import-legacy", str(legacy), "--interval", "1", *target, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{IMPORT_ROWS} checks imported" in done.stdout
    return (started, time.time()), delay


def test_an_import_into_the_data_dir_disturbs_no_check(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    legacy = make_legacy_db(tmp_path / "exam.db", IMPORT_ROWS)
    started = time.time()
    server = make_server(tmp_path / "data", args=("--host-name", HOST))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    (since, until), delay = run_import(legacy, "--data-dir", str(tmp_path / "data"))
    assert until - since > 3, "the import was too short to contend with the sampler"
    assert_undisturbed(server, started, (since, until), delay)


def test_a_fold_catch_up_of_a_million_checks_disturbs_no_check(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    load_checks(data / "checkd.db", BULK_CHECKS, host=HOST, end_at=int(time.time()) - 5)
    started = time.time()
    with SchedulingDelay() as delay:
        server = make_server(data, args=("--host-name", HOST))
        since = time.time()  # the upkeep started folding as the server opened its database
        upkeep = server.wait_for(
            lambda: (u := server.get("/api/v2/upkeep").json())["last_fold_at"] is not None and u,
            timeout=120,
        )
    until = datetime.fromisoformat(upkeep["last_fold_at"]).timestamp()  # the catch-up's end
    assert until - since > 3, "the catch-up was too short to contend with the sampler"
    assert upkeep["folded_total"] >= BULK_CHECKS, upkeep
    assert upkeep["errors_total"] == 0, upkeep
    assert_undisturbed(server, started, (since, until), delay)


def test_an_import_into_postgresql_disturbs_no_check(
    make_server: Callable[..., CheckdProcess], postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    legacy = make_legacy_db(tmp_path / "exam.db", IMPORT_ROWS)
    started = time.time()
    server = make_server(args=("--host-name", HOST, "--database-url", url))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2, timeout=30)
    window, delay = run_import(legacy, "--database-url", url)
    assert_undisturbed(server, started, window, delay)
