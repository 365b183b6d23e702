"""The `checkd` command line: help, check, token, db upgrade, history, sampler control, SIGTERM.

Commands run as real subprocesses (`python -m checkd`), against real data dirs and a real server;
only the per-command `--help` sweep runs in-process (same Typer app) to keep the suite quick.
"""

from __future__ import annotations

import json
import re
import resource
import signal
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from checkd.cli import app
from checkd.db import make_engine, migrate
from checkd_process import CHECKD, CheckdProcess, free_port, run_cli

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the CLI, as argv prefixes (discovered, so new ones are covered)."""
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():  # a group (Typer vendors its own click)
            walk(sub, (*path, name))

    walk(root, ())
    return found


def no_traceback(proc: object) -> None:
    text = getattr(proc, "stdout", "") + getattr(proc, "stderr", "")
    assert "Traceback" not in text, text


# -- help ------------------------------------------------------------------------------------------
def test_checkd_help_exits_0_and_lists_the_commands() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    for name in ("serve", "check", "history", "sampler", "token", "db"):
        assert name in proc.stdout
    no_traceback(proc)


def test_the_help_sweep_covers_the_issue_commands() -> None:
    paths = {" ".join(p) for p in command_paths()}
    wanted = {"serve", "check", "token", "history", "db upgrade", "sampler start", "sampler stop"}
    assert wanted | {"sampler status"} <= paths, paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "checkd")
def test_every_command_has_help_that_exits_0(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_every_command_that_reaches_a_store_or_server_accepts_the_shared_options() -> None:
    """The issue: every command accepts --config, --data-dir and --database-url."""
    root = typer.main.get_command(app)
    missing = []
    for path in command_paths():
        cmd: Any = root
        for name in path:
            cmd = cmd.commands[name]
        if hasattr(cmd, "commands"):
            continue
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        for wanted in ("--config", "--data-dir", "--database-url"):
            if wanted not in opts:
                missing.append(f"{' '.join(path)}: {wanted}")
    assert missing == [], missing


# -- commands that need no server ------------------------------------------------------------------
def test_check_json_prints_one_check_and_stores_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = run_cli("check", "--json", "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    check = json.loads(proc.stdout)
    assert isinstance(check["cpu"], int | float)
    assert 0 <= check["cpu"] <= 100
    assert set(check["memory"]) >= {"total", "available", "used", "percent"}
    assert check["memory"]["total"] > 0
    assert [d["path"] for d in check["disks"]] == ["/"]
    assert check["disks"][0]["total"] > 0
    assert "httpd" in check["services"]
    assert ISO_Z.match(check["taken_at"]), check["taken_at"]
    assert not (data / "checkd.db").exists(), "`checkd check` must not store anything"


def test_token_prints_the_token_stored_in_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    stored = "stored-token-0123456789abcdefghijklmnop"
    (data / "api-token").write_text(stored + "\n")
    proc = run_cli("token", "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == stored
    no_traceback(proc)


def test_token_generates_one_with_mode_0600_and_then_prints_the_same(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = CliRunner().invoke(app, ["token", "--data-dir", str(data)])
    assert first.exit_code == 0, first.output
    token = first.stdout.strip()
    assert len(token) >= 32
    path = data / "api-token"
    assert path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = CliRunner().invoke(app, ["token", "--data-dir", str(data)])
    assert again.stdout.strip() == token


def test_db_upgrade_creates_the_database_and_is_idempotent(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = run_cli("db", "upgrade", "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    db = data / "checkd.db"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        [(version,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"checks", "hosts", "check_disks", "check_services", "alembic_version"} <= tables
    assert version
    again = run_cli("db", "upgrade", "--data-dir", str(data))
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(version,)]


def test_db_upgrade_into_an_impossible_place_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    proc = run_cli("db", "upgrade", "--data-dir", str(blocker / "data"))
    assert proc.returncode != 0
    no_traceback(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert str(blocker) in lines[0]


def test_sampler_status_without_a_server_says_it_is_not_running(tmp_path: Path) -> None:
    config = tmp_path / "checkd.toml"
    port = free_port()
    config.write_text(f"[server]\nport = {port}\n")
    proc = run_cli("sampler", "status", "--data-dir", str(tmp_path / "data"), "--config", str(config))
    assert proc.returncode != 0
    no_traceback(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "not running" in lines[0]
    assert str(port) in lines[0]


# -- against a running server ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CheckdProcess, Path]]:
    """A server sampling every second, and a config file pointing at its port."""
    root = tmp_path_factory.mktemp("cli-live")
    config = root / "checkd.toml"
    server = CheckdProcess(root / "data", args=("--config", str(config)))
    config.write_text(f'[server]\nport = {server.port}\n[sampler]\nnet_interfaces = ["lo"]\n')
    try:
        server.start()
        yield server, config
    finally:
        server.close()


def test_remote_commands_find_a_server_on_a_non_default_port(live: tuple[CheckdProcess, Path]) -> None:
    """--url, [server] in the config and CHECKD_SERVER__PORT all reach it; a miss names the address tried."""
    server, config = live
    data = ("--data-dir", str(server.data_dir))
    reached = [
        run_cli("sampler", "status", *data, "--url", f"http://127.0.0.1:{server.port}"),
        run_cli("sampler", "status", *data, "--url", f"http://localhost:{server.port}/"),
        run_cli("sampler", "status", *data, "--config", str(config)),
        run_cli("service", "list", *data, env={"CHECKD_SERVER__PORT": str(server.port)}),
    ]
    for proc in reached:
        assert proc.returncode == 0 and proc.stdout, proc
    assert "httpd" in reached[-1].stdout

    dead = free_port()
    miss = run_cli("sampler", "status", *data, "--url", f"http://127.0.0.1:{dead}")
    assert miss.returncode == 1
    assert miss.stderr.startswith(f"checkd: checkd is not running at http://127.0.0.1:{dead} (from --url: ")
    assert "--url URL or [server] host/port (env CHECKD_SERVER__PORT)" in miss.stderr
    miss = run_cli("service", "list", *data, env={"CHECKD_SERVER__PORT": str(dead)})
    assert f"not running at http://127.0.0.1:{dead} (from [server] host and port: " in miss.stderr, miss
    for bad in ("ftp://127.0.0.1/", "127.0.0.1:8080", "http://"):
        proc = run_cli("sampler", "status", *data, "--url", bad)
        assert proc.returncode == 2 and proc.stderr.startswith("checkd: --url: "), (bad, proc)
        no_traceback(proc)


def test_history_cpu_size_3_prints_the_3_newest_readings_oldest_first(
    live: tuple[CheckdProcess, Path],
) -> None:
    server, _ = live
    server.wait_for(lambda: len(server.get("/v1.0/checks/cpu/history?size=5").json()) >= 4)
    proc = run_cli("history", "cpu", "--size", "3", "--data-dir", str(server.data_dir))
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3, proc.stdout
    times = []
    for line in lines:
        when, cpu = line.split()
        assert ISO_Z.match(when), line
        assert cpu == "-" or 0 <= float(cpu) <= 100, line
        times.append(datetime.fromisoformat(when.replace("Z", "+00:00")))
    assert times == sorted(times)
    # The newest ones: the last printed is at most a couple of checks behind the server's newest.
    newest = server.get("/v1.0/checks/cpu/history?size=1").json()[0]["taken_at"]
    lag = datetime.fromisoformat(newest.replace("Z", "+00:00")) - times[-1]
    assert lag.total_seconds() <= 5


def test_history_of_any_metric_prints_its_buckets(live: tuple[CheckdProcess, Path]) -> None:
    server, config = live
    common = ("--data-dir", str(server.data_dir), "--config", str(config))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 3)
    proc = run_cli("history", "net_rx_bytes", "--device", "lo", "--since", "10m", "--points", "600", *common)
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) >= 1, proc.stdout
    for line in lines:
        when, lo, avg, hi = line.split()
        assert ISO_Z.match(when), line
        assert 0 <= float(lo) <= float(avg) * (1 + 1e-6) and float(avg) <= float(hi) * (1 + 1e-6), line
    as_json = run_cli("history", "procs_total", "--json", *common)
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["metric"] == "procs_total" and body["points"] and body["points"][-1]["max"] > 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("bogus",), "checkd: METRIC: unknown metric 'bogus'; one of cpu, cpu_percent"),
        (("net_rx_bytes",), "checkd: --device: required for net_rx_bytes"),
        (("probe_up",), "checkd: --probe: required for probe_up"),
        (("swap_percent", "--since", "5x"), "checkd: --since: '5x' is not a duration"),
    ],
)
def test_history_bad_input_is_one_line_naming_the_parameter(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    proc = run_cli("history", *args, "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.startswith(says), proc
    assert len(proc.stderr.strip().splitlines()) == 1
    no_traceback(proc)


def test_history_cpu_with_fewer_checks_than_size_prints_what_exists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data / 'checkd.db'}")
    migrate(engine)
    engine.dispose()
    result = CliRunner().invoke(app, ["history", "cpu", "--size", "3", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ""


def test_sampler_status_stop_start_through_the_running_server(live: tuple[CheckdProcess, Path]) -> None:
    server, config = live
    common = ("--data-dir", str(server.data_dir), "--config", str(config))

    status = run_cli("sampler", "status", *common)
    assert status.returncode == 0, status.stderr
    assert "sampler running" in status.stdout
    no_traceback(status)

    stop = run_cli("sampler", "stop", *common)
    assert stop.returncode == 0, stop.stderr
    assert "sampler stopped" in stop.stdout
    assert server.get("/api/v2/sampler").json()["running"] is False

    # The same commands in-process (same code, no interpreter start-up): idempotent stop, status.
    again = CliRunner().invoke(app, ["sampler", "stop", *common])
    assert again.exit_code == 0, again.output
    assert "already stopped" in again.stdout
    status_now = CliRunner().invoke(app, ["sampler", "status", *common])
    assert "sampler stopped" in status_now.stdout

    start = run_cli("sampler", "start", *common)
    assert start.returncode == 0, start.stderr
    assert "sampler running" in start.stdout
    assert server.get("/api/v2/sampler").json()["running"] is True


def test_sampler_command_with_a_wrong_token_says_so_without_a_traceback(
    live: tuple[CheckdProcess, Path], tmp_path: Path
) -> None:
    server, config = live
    other = tmp_path / "other-data"
    other.mkdir()
    (other / "api-token").write_text("wrong-token-0123456789abcdefghijkl\n")
    proc = run_cli("sampler", "stop", "--data-dir", str(other), "--config", str(config))
    assert proc.returncode != 0
    no_traceback(proc)
    assert "401" in proc.stderr
    assert server.get("/api/v2/sampler").json()["running"] is True


# -- signals ---------------------------------------------------------------------------------------
def _stored(db: Path) -> tuple[int, int | None]:
    with sqlite3.connect(db) as conn:
        count, newest = conn.execute("SELECT count(*), max(taken_at) FROM checks").fetchone()
    return int(count), newest


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_serve_with_exit_0_and_the_last_check_is_stored(
    make_server: Callable[..., CheckdProcess], sig: signal.Signals
) -> None:
    server = make_server()
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    before = server.get("/api/v2/sampler").json()
    code = server.stop(sig)
    assert code == 0, f"exit {code} after {sig.name}:\n{server.log()[-2000:]}"
    assert "Traceback" not in server.log()
    count, newest = _stored(server.data_dir / "checkd.db")
    assert count >= before["checks_total"]
    last = datetime.fromisoformat(before["last_check_at"].replace("Z", "+00:00"))
    assert newest is not None
    assert newest >= int(last.timestamp())


def _token_file_problems(tmp_path: Path) -> dict[str, Path]:
    """Data dirs whose api-token is empty, blank, a directory, or not text."""
    made: dict[str, Path] = {}
    for kind, content in {"empty": b"", "blank": b" \n", "binary": b"\xff\xfe\x00"}.items():
        made[kind] = tmp_path / kind
        made[kind].mkdir()
        (made[kind] / "api-token").write_bytes(content)
    made["directory"] = tmp_path / "directory"
    (made["directory"] / "api-token").mkdir(parents=True)
    return made


def test_an_unusable_token_file_is_a_one_line_refusal_naming_it(tmp_path: Path) -> None:
    for kind, data in _token_file_problems(tmp_path).items():
        path = data / "api-token"
        before = path.read_bytes() if path.is_file() else None
        for args in (("token",), ("serve", "--port", str(free_port())), ("sampler", "stop")):
            proc = run_cli(*args, "--data-dir", str(data), timeout=30)
            lines = proc.stderr.strip().splitlines()
            assert proc.returncode == 2, (kind, args, proc.stdout, proc.stderr)
            assert len(lines) == 1 and str(path) in lines[0], (kind, args, proc.stderr)
            assert proc.stdout == "", "never a fresh token that nobody saved"
            no_traceback(proc)
        assert (path.read_bytes() if path.is_file() else None) == before, "the file is left as it was"


def _token_with_no_room_to_write(data: Path) -> subprocess.CompletedProcess[str]:
    """`checkd token` where every write fails (file size limit 0: EFBIG, like a full disk)."""

    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    return subprocess.run(
        [*CHECKD, "token", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        preexec_fn=no_room,
    )


def test_a_token_write_that_fails_leaves_no_file_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    failed = _token_with_no_room_to_write(data)
    assert failed.returncode == 2 and failed.stdout == ""
    assert (
        failed.stderr.strip()
        == f"checkd: cannot write the API token file {data / 'api-token'}: File too large"
    )
    assert sorted(p.name for p in data.iterdir()) == [], "no partial or temporary file is left"
    first = run_cli("token", "--data-dir", str(data))
    second = run_cli("token", "--data-dir", str(data))
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout == (data / "api-token").read_text()
    assert stat.S_IMODE((data / "api-token").stat().st_mode) == 0o600
