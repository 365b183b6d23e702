"""Waiting action polls are woken by PostgreSQL's notifications and read the database rarely; on
SQLite they read every half second (real collectors, a real PostgreSQL, a real SQLite file)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import psycopg

from agent_process import ACTION_RESULT, ingest_token, pushed_checks
from checkd_process import CheckdProcess, bearer, run_cli
from pg_server import PostgresServer

WAITING = 20  # long polls waiting at once while the reads are counted
WINDOW_S = 10.0


def _ready(srv: CheckdProcess) -> CheckdProcess:
    srv.wait_for(lambda: srv.get("/healthz").json()["database"] == "ok")
    return srv


class Poll(threading.Thread):
    """One agent's long poll, in a thread: its answer and when it came."""

    def __init__(self, srv: CheckdProcess, host: str, token: str, wait: int = 30) -> None:
        super().__init__(daemon=True)
        self.url, self.host, self.token, self.wait = srv.url(""), host, token, wait
        self.answer: httpx.Response | None = None
        self.answered_at = 0.0

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=self.wait + 15, trust_env=False) as client:
            self.answer = client.get(
                f"/api/v2/agents/{self.host}/actions", params={"wait": self.wait}, headers=bearer(self.token)
            )
        self.answered_at = time.monotonic()


def act_through_a_waiting_poll(
    asker: CheckdProcess, polled: CheckdProcess, host: str, token: str, service: str, wait: int
) -> float:
    """Start `host`'s agent poll on `polled`; once it waits, ask `asker` to start `service` there (the
    request waits up to `wait` s); answer the action the poll hands out. Seconds from the request to
    the poll's answer."""
    poll = Poll(polled, host, token)
    poll.start()
    time.sleep(0.5)  # waiting: its first read found nothing
    queued_at = time.monotonic()
    answers: list[httpx.Response] = []
    ask = threading.Thread(
        target=lambda: answers.append(
            asker.post(
                f"/api/v2/services/{service}/start", params={"host": host, "wait": wait}, headers=asker.auth()
            )
        ),
        daemon=True,
    )
    ask.start()
    poll.join(20)
    assert poll.answer is not None and poll.answer.status_code == 200, poll.answer
    (action,) = poll.answer.json()
    done = polled.post(
        f"/api/v2/agents/{host}/actions/{action['id']}",
        json=ACTION_RESULT | {"message": service},
        headers=bearer(token),
    )
    assert done.status_code == 200, done.text
    ask.join(20)
    assert answers and answers[0].status_code == 200, answers
    return poll.answered_at - queued_at


def _collectors(
    make_server: Callable[..., CheckdProcess], url: str, n: int
) -> tuple[list[CheckdProcess], tuple[str, ...]]:
    db = ("--database-url", url)
    return [_ready(make_server(interval=60, args=(*db, "--host-name", f"c{i}"))) for i in range(n)], db


def test_on_postgresql_a_waiting_poll_wakes_when_another_collector_queues_an_action(
    postgres: PostgresServer, make_server: Callable[..., CheckdProcess]
) -> None:
    (asker, polled), db = _collectors(make_server, postgres.create_database(), 2)
    token = ingest_token("edge1", *db)
    assert (
        polled.post("/api/v2/ingest", json=pushed_checks("edge1", [1]), headers=bearer(token)).status_code
        == 200
    )
    polled.get("/api/v2/agents/edge1/actions", params={"wait": 0}, headers=bearer(token))  # starts listening
    time.sleep(1.0)
    for service in ("a", "b", "c"):
        took = act_through_a_waiting_poll(asker, polled, "edge1", token, service, wait=10)
        # Well before the 5 s timer's read: the notification woke it.
        assert took < 1.5, f"{service}: {took:.2f} s"
    # A revocation wakes a waiting poll too: 401 at once, not at the timer's read.
    poll = Poll(polled, "edge1", token)
    poll.start()
    time.sleep(0.5)
    assert run_cli("hosts", "revoke", "edge1", *db).returncode == 0
    revoked_at = time.monotonic()
    poll.join(20)
    assert poll.answer is not None and poll.answer.status_code == 401
    assert poll.answered_at - revoked_at < 1.5


def _commits(pg: PostgresServer, database: str) -> int:
    """Transactions ended in `database` so far (as far as its statistics have been flushed)."""
    with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
        found = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    assert found is not None
    return int(found[0])


def test_on_postgresql_waiting_polls_read_the_database_only_on_the_slow_timer(
    postgres: PostgresServer, make_server: Callable[..., CheckdProcess]
) -> None:
    url = postgres.create_database()
    (collector,), db = _collectors(make_server, url, 1)
    tokens = {f"w{i:02d}": ingest_token(f"w{i:02d}", *db) for i in range(WAITING)}
    for host, token in tokens.items():
        assert (
            collector.post("/api/v2/ingest", json=pushed_checks(host, [1]), headers=bearer(token)).status_code
            == 200
        )
    polls = [Poll(collector, host, token, wait=60) for host, token in tokens.items()]
    for poll in polls:
        poll.start()
    # All waiting; an idle backend's statistics reach pg_stat_database up to 10 s late, so the
    # set-up's (tokens, pushes) must be in before the window opens.
    time.sleep(11.0)
    database = url.rsplit("/", 1)[1]
    before = _commits(postgres, database)
    time.sleep(WINDOW_S)
    per_s = (_commits(postgres, database) - before) / WINDOW_S
    # A read is 2-3 transactions (pre-ping, the read). Every 0.5 s, as before, that is >= 4 a second
    # per poll; every 5 s, <= 0.6.
    assert per_s < WAITING * 1.0, f"{per_s:.1f} transactions/s with {WAITING} waiting polls"
    assert all(poll.answer is None for poll in polls)


def test_on_sqlite_a_waiting_poll_takes_an_action_on_its_half_second_read(
    make_server: Callable[..., CheckdProcess],
) -> None:
    srv = _ready(make_server(args=("--host-name", "collector")))
    token = ingest_token("edge2", "--data-dir", str(srv.data_dir))
    assert (
        srv.post("/api/v2/ingest", json=pushed_checks("edge2", [1]), headers=bearer(token)).status_code == 200
    )
    assert act_through_a_waiting_poll(srv, srv, "edge2", token, "web", wait=5) < 1.5


def test_on_postgresql_a_lost_listening_session_is_a_fleet_fault_and_polls_read_on_meanwhile(
    postgres: PostgresServer, make_server: Callable[..., CheckdProcess]
) -> None:
    url = postgres.create_database()
    (collector,), db = _collectors(make_server, url, 1)
    token = ingest_token("edge3", *db)
    auth = bearer(token)
    assert collector.post("/api/v2/ingest", json=pushed_checks("edge3", [1]), headers=auth).status_code == 200
    collector.get("/api/v2/agents/edge3/actions", params={"wait": 0}, headers=auth)  # starts listening
    listening = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND query LIKE 'LISTEN%%'"
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as admin:
        collector.wait_for(lambda: admin.execute(listening, (database,)).fetchall())
        (pid,) = admin.execute(listening, (database,)).fetchone() or ()
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        sampler = collector.wait_for(
            lambda: (s := collector.get("/api/v2/sampler").json())["fleet_errors_total"] >= 1 and s
        )
        assert sampler["fleet_last_error"].startswith("agents' wake-ups:"), sampler
        # Survived: the listener listens again on a new session (within its retry time).
        collector.wait_for(lambda: (admin.execute(listening, (database,)).fetchone() or (pid,))[0] != pid)
    assert act_through_a_waiting_poll(collector, collector, "edge3", token, "web", wait=5) < 1.5
