"""The one test helper that runs a real `checkd agent` subprocess; stopped by pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checkd_process import CHECKD, run_cli

# An agent's answer to an action, as POST /api/v2/agents/{host}/actions/{id} takes it.
ACTION_RESULT = {
    "status": 200,
    "ok": True,
    "state": "active",
    "duration_ms": 1,
    "at": "2026-01-01T00:00:00Z",
    "message": "x",
}


def ingest_token(host: str, *db_args: str) -> str:
    """`checkd hosts add HOST` on the database `db_args` names (--data-dir D or --database-url U)."""
    done = run_cli("hosts", "add", host, *db_args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class AgentProcess:
    """`checkd agent` for one host, with its own token file, spool dir and status file."""

    def __init__(
        self,
        root: Path,
        *,
        host: str,
        token: str,
        collectors: Sequence[str],
        interval: float = 1.0,
        spool_dir: Path | str | None = "default",
        args: Sequence[str] = (),
    ) -> None:
        self.root = root / f"agent-{host}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.token_file = self.root / "token"
        self.token_file.write_text(token + "\n")
        self.spool_dir = self.root / "spool" if spool_dir == "default" else spool_dir
        self.status_file = self.root / "status.json"
        self.log_path = self.root / "agent.log"
        self.argv = [*CHECKD, "agent", "--host-name", host, "--token-file", str(self.token_file)]
        self.argv += ["--interval", str(interval), "--status-file", str(self.status_file)]
        self.argv += ["--spool-dir", str(self.spool_dir or "")]
        for url in collectors:
            self.argv += ["--collector", url]
        self.argv += list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        """Launch the agent."""
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.status_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while not self.status_file.exists():  # written once its signal handlers are in place
            assert self.proc.poll() is None and time.monotonic() < deadline, self.log()
            time.sleep(0.05)
        return self

    def log(self) -> str:
        """Everything the agent printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def status(self, timeout: float = 10) -> dict[str, Any]:
        """Ask the running agent for its status (SIGUSR1) and read the file it writes."""
        assert self.proc is not None and self.proc.poll() is None, self.log()
        before = self.status_file.stat().st_mtime_ns if self.status_file.exists() else 0
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status_file.exists() and self.status_file.stat().st_mtime_ns != before:
                try:
                    return dict(json.loads(self.status_file.read_text()))
                except ValueError:
                    pass  # replaced while read: read again
            time.sleep(0.05)
        raise AssertionError(f"agent wrote no status in {timeout}s:\n{self.log()}")

    def wait_for(self, predicate: Any, timeout: float = 30, step: float = 0.3) -> dict[str, Any]:
        """Poll the status until `predicate(status)` holds and return that status; fail with the
        agent's log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if predicate(status):
                return status
            time.sleep(step)
        raise AssertionError(f"agent condition not met in {timeout}s:\n{self.log()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> dict[str, Any]:
        """Signal the pid, wait for the exit, and return the status it wrote at exit."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"agent ignored signal {sig}:\n{self.log()}") from None
        return dict(json.loads(self.status_file.read_text())) if self.status_file.exists() else {}

    def close(self) -> None:
        """Kill the agent if it still runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def pushed_checks(host: str, seqs: Sequence[int], *, taken_at: float | None = None) -> list[dict[str, Any]]:
    """Checks as an agent pushes them (through the agent's own encoder), one per sequence number."""
    from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage
    from checkd.probes.wire import to_wire

    start = time.time() - len(seqs) if taken_at is None else taken_at
    return [
        to_wire(
            Check(
                taken_at=start + i,
                cpu=12.5,
                memory=MemoryUsage(total=8 << 30, available=4 << 30, used=4 << 30, percent=50.0),
                load=LoadAverage(0.5, 0.25, 0.125),
                disks=[DiskUsage(path="/", total=100 << 30, used=40 << 30, free=60 << 30, percent=40.0)],
                services={"web": "active"},
            ),
            host=host,
            seq=seq,
        )
        for i, seq in enumerate(seqs)
    ]


def ingest_tokens(database_url: str, hosts: Sequence[str]) -> dict[str, str]:
    """An ingest token per host, created in the (migrated) database as `checkd hosts add` does."""
    from checkd.db import make_engine, migrate
    from checkd.store.tokens import create_token

    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            return {h: create_token(conn=conn, name=f"ingest-{h}", scope="ingest", host=h) for h in hosts}
    finally:
        engine.dispose()


def stored_per_host(dsn: str) -> dict[str, tuple[int, int]]:
    """(checks, distinct checks) per host name, straight from PostgreSQL: a check stored twice has
    the same second, cpu, available memory and load (two real checks practically never do)."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT h.name, count(*),"
            " count(DISTINCT (c.taken_at, c.cpu_pct, c.mem_available_kib, c.load1)) FROM checks c"
            " JOIN hosts h ON h.id = c.host_id GROUP BY h.name"
        ).fetchall()
    return {name: (int(n), int(d)) for name, n, d in rows}
