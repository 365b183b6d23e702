"""Real `checkd agent` processes pushing to two real collectors in front of a real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from agent_process import AgentProcess, ingest_token, ingest_tokens, stored_per_host
from checkd_process import CheckdProcess, free_port, run_cli
from pg_server import PostgresServer

PIDWRAPPER = str(Path(__file__).parent.parent / "control" / "fixtures" / "pidwrapper.py")

# The issue asks for a 60 s outage with 20 agents; CHECKD_TEST_OUTAGE_S shortens it on a slow run.
OUTAGE_S = float(os.environ.get("CHECKD_TEST_OUTAGE_S", "60"))
HEAVY = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "pydantic",
    "pydantic_core",
    "uvicorn",
    "typer",
    "httpx",
    "alembic",
)


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _collector(tmp_path: Path, name: str, url: str, port: int | None = None) -> CheckdProcess:
    # A collector samples nothing of its own here (--host-name names it apart from the agents).
    return CheckdProcess(
        tmp_path / name, port=port, interval=60, args=("--database-url", url, "--host-name", name)
    )


def _agents(tmp_path: Path, url: str, n: int, collectors: list[str], **kw: object) -> list[AgentProcess]:
    hosts = [f"node{i:02d}" for i in range(n)]
    tokens = ingest_tokens(url, hosts)
    return [AgentProcess(tmp_path, host=h, token=tokens[h], collectors=collectors, **kw) for h in hosts]  # type: ignore[arg-type]


def _assert_all_stored_once(url: str, finals: dict[str, dict[str, object]], *, distinct: bool) -> None:
    """Every check each agent took is stored, once. The count alone shows both (a check stored twice
    adds one, a lost one takes one away, and an agent forgets a check only once it was accepted);
    at 1 s or more between checks, no two real checks of a host are alike, so `distinct` also
    compares the stored rows themselves."""
    stored = stored_per_host(_dsn(url))
    for host, final in finals.items():
        assert final["waiting_in_memory"] == 0 and final["waiting_in_spool"] == 0, (host, final)
        assert final["dropped_total"] == 0 and final["rejected_total"] == 0, (host, final)
        count, unlike = stored[host]
        assert count == final["checks_total"], f"{host}: {count} stored of {final['checks_total']} taken"
        if distinct:
            assert unlike == count, f"{host}: {count - unlike} checks stored twice"


def test_the_agent_imports_only_the_standard_library_and_psutil(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    collector = _collector(tmp_path, "collector", url).start()
    (agent,) = _agents(tmp_path, url, 1, [collector.url("")], interval=0.2)
    try:
        agent.start()
        status = agent.wait_for(lambda s: s["pushed_total"] >= 3)
        foreign = sorted(
            m
            for m in status["modules"]
            if m.split(".")[0] not in sys.stdlib_module_names
            and m.split(".")[0] not in ("checkd", "psutil", "__main__", "_distutils_hack")
        )
        assert foreign == [], f"the agent imported {foreign}"
        assert not [m for m in status["modules"] if m.split(".")[0] in HEAVY]
        assert "checkd.probes.check" in status["modules"]
        latest = collector.get("/api/v2/checks/latest", params={"host": agent.host})
        assert latest.status_code == 200 and latest.json()["host"] == agent.host
        assert latest.json()["memory"]["total"] > 0 and latest.json()["disks"][0]["path"] == "/"
        assert agent.host in {h["name"] for h in collector.get("/api/v2/hosts").json()}
    finally:
        agent.close()
        collector.close()


def test_a_collector_outage_loses_and_duplicates_nothing(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    collector = _collector(tmp_path, "collector", url).start()
    agents = _agents(tmp_path, url, 20, [collector.url("")], interval=1.0)
    try:
        for a in agents:
            a.start()
        for a in agents:
            a.wait_for(lambda s: s["pushed_total"] >= 1, timeout=60)
        collector.stop()
        time.sleep(OUTAGE_S)
        spooling = [a.status() for a in agents]
        assert all(s["waiting_in_spool"] > 0 and s["last_error"] for s in spooling), spooling[0]
        collector.start()
        for a in agents:
            a.wait_for(lambda s: s["waiting_in_spool"] == 0 and s["pushed_total"] >= OUTAGE_S, timeout=90)
        finals = {a.host: a.stop() for a in agents}
        _assert_all_stored_once(url, finals, distinct=True)
    finally:
        for a in agents:
            a.close()
        collector.close()


def test_kill_9_of_a_collector_mid_batch_loses_and_duplicates_nothing(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    first = _collector(tmp_path, "first", url).start()
    second = _collector(tmp_path, "second", url).start()
    agents = _agents(tmp_path, url, 4, [first.url(""), second.url("")], interval=0.05)
    try:
        for a in agents:
            a.start()
        for a in agents:
            a.wait_for(lambda s: s["pushed_total"] >= 20, timeout=60)
        first.stop(signal.SIGKILL)  # batches in flight to it: committed or not, never answered
        time.sleep(3)
        for a in agents:
            a.wait_for(lambda s: s["last_error"] is None and s["waiting_in_spool"] == 0, timeout=60)
        first.start()
        finals = {a.host: a.stop() for a in agents}
        _assert_all_stored_once(url, finals, distinct=False)
    finally:
        for a in agents:
            a.close()
        first.close()
        second.close()


def test_postgresql_down_is_503_and_the_agent_spools(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    collector = _collector(tmp_path, "collector", url).start()
    (agent,) = _agents(tmp_path, url, 1, [collector.url("")], interval=0.2)
    try:
        agent.start()
        agent.wait_for(lambda s: s["pushed_total"] >= 2)
        postgres.stop()
        try:
            r = collector.post("/api/v2/ingest", json=[], headers=collector.auth())
            assert r.status_code == 503 and r.json()["detail"].startswith("database unavailable")
            agent.wait_for(lambda s: s["waiting_in_spool"] > 0 and "503" in (s["last_error"] or ""))
        finally:
            postgres.start()
        agent.wait_for(lambda s: s["waiting_in_spool"] == 0 and s["last_error"] is None, timeout=60)
        _assert_all_stored_once(url, {agent.host: agent.stop()}, distinct=False)
    finally:
        agent.close()
        collector.close()


def test_an_unusable_spool_dir_is_said_and_the_agent_samples_in_memory_within_its_bound(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    agent = AgentProcess(
        tmp_path,
        host="lonely",
        token="t" * 43,
        collectors=["http://127.0.0.1:9"],  # nothing listens on the discard port
        interval=0.05,
        spool_dir=blocker / "spool",
        args=("--spool-max", "64KiB"),
    )
    try:
        agent.start()
        status = agent.wait_for(lambda s: s["dropped_total"] > 0, timeout=60)
        assert status["spool_error"] and "not-a-dir" in status["spool_error"]
        assert status["waiting_in_spool"] == 0 and 0 < status["waiting_in_memory"] < status["checks_total"]
        assert "kept in memory only" in agent.log()
        later = agent.wait_for(lambda s: s["checks_total"] > status["checks_total"] + 20)
        assert later["waiting_in_memory"] <= status["waiting_in_memory"] + 2  # bounded, not growing
    finally:
        agent.close()


def test_bad_agent_options_exit_with_one_line(tmp_path: Path) -> None:
    for args, expected in (
        (["--collector", "ftp://x", "--token-file", "/nope"], "--collector:"),
        (["--collector", "http://127.0.0.1:9", "--token-file", str(tmp_path / "nope")], "--token-file:"),
    ):
        done = run_cli("agent", *args)
        assert done.returncode == 2 and done.stderr.startswith(f"checkd agent: {expected}"), done.stderr
        assert "Traceback" not in done.stderr


def test_an_action_reaches_the_agents_command_service_and_its_result_comes_back(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database()
    first = _collector(tmp_path, "first", url).start()
    second = _collector(tmp_path, "second", url).start()
    pidfile, port = tmp_path / "web.pid", free_port()
    config = tmp_path / "agent.toml"
    config.write_text(
        f"""
[services.web]
backend = "command"
start = {json.dumps([sys.executable, PIDWRAPPER, "start", str(pidfile), str(port), str(tmp_path)])}
stop = {json.dumps([sys.executable, PIDWRAPPER, "stop", str(pidfile)])}
pidfile = "{pidfile}"
timeout = 15
"""
    )
    # The agent polls the second collector; the action is asked of the first: they share the database.
    (agent,) = _agents(tmp_path, url, 1, [second.url("")], interval=0.5, args=("--config", str(config)))
    try:
        agent.start()
        agent.wait_for(lambda s: s["pushed_total"] >= 1)
        latest = first.get("/api/v2/checks/latest", params={"host": agent.host}).json()
        assert latest["services"] == {"web": "inactive"}
        r = first.post("/api/v2/services/web/start", params={"host": agent.host}, headers=first.auth())
        assert r.status_code == 200, r.text
        assert r.json()["ok"] is True and r.json()["state"] == "active" and r.json()["service"] == "web"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert resp.status == 200  # the daemon the agent started answers
        first.wait_for(
            lambda: (
                first.get("/api/v2/checks/latest", params={"host": agent.host}).json()["services"]
                == {"web": "active"}
            )
        )
        r = second.post("/api/v2/services/nope/stop", params={"host": agent.host}, headers=second.auth())
        assert r.status_code == 404 and "nope" in r.json()["detail"]
        r = first.post("/api/v2/services/web/stop", params={"host": agent.host}, headers=first.auth())
        assert r.status_code == 200 and r.json()["state"] == "inactive", r.text
        audit = first.get("/api/v2/actions", params={"host": agent.host}).json()
        assert [(a["service"], a["action"], a["status"], a["actor"]) for a in audit] == [
            ("web", "stop", 200, "api"),
            ("nope", "stop", 404, "api"),
            ("web", "start", 200, "api"),
        ]
        assert agent.status()["actions_total"] == 3
    finally:
        agent.close()
        if pidfile.exists():
            run_pidwrapper = [sys.executable, PIDWRAPPER, "stop", str(pidfile)]
            subprocess.run(run_pidwrapper, check=False, timeout=30)
        first.close()
        second.close()


def test_a_kept_alive_connection_the_collector_closed_is_no_push_error(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """A collector keeping idle connections 2 s (`[server] keep_alive`) closes the agent's between
    pushes every 3 s: each push must reconnect, not fail."""
    url = postgres.create_database()
    collector = _collector(tmp_path, "collector", url)
    collector.env["CHECKD_SERVER__KEEP_ALIVE"] = "2"
    collector.start()
    (agent,) = _agents(tmp_path, url, 1, [collector.url("")], interval=1, args=("--push-every", "3"))
    try:
        agent.start()
        first = agent.wait_for(lambda s: s["pushed_total"] >= 1 and s["last_error"] is None)
        # Three pushes later, each after the connection sat idle for 3 s:
        status = agent.wait_for(lambda s: s["pushes_total"] >= first["pushes_total"] + 3, timeout=60)
        assert status["push_errors_total"] == first["push_errors_total"] and status["last_error"] is None
        assert status["connections_total"] >= first["connections_total"] + 3  # the collector closed them
        assert status["waiting_in_spool"] == 0
    finally:
        agent.close()
        collector.close()


def test_the_agent_pushes_issue_12_readings(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    """Swap, processes, cpu count, inodes, and the rates of the interfaces and devices picked in the
    agent's `[sampler]` config reach the collector (SQLite here) and read back by `host=`."""
    device = next((d for d in ("vda", "sda", "nvme0n1", "xvda") if Path("/sys/block", d).exists()), None)
    config = tmp_path / "agent.toml"
    config.write_text(
        f'[sampler]\nnet_interfaces = ["lo"]\ndisk_devices = {json.dumps([device] if device else [])}\n'
    )
    collector = make_server(args=("--host-name", "collector"))
    token = ingest_token("edge1", "--data-dir", str(collector.data_dir))
    agent = AgentProcess(
        tmp_path, host="edge1", token=token, collectors=[collector.url("")], interval=0.3,
        args=("--config", str(config), "--push-every", "0.3"),
    )  # fmt: skip
    try:
        agent.start()
        agent.wait_for(lambda s: s["pushed_total"] >= 3)
        latest = collector.get("/api/v2/checks/latest", params={"host": "edge1"}).json()
        assert latest["host"] == "edge1" and latest["procs"] > 0 and latest["swap_percent"] is not None
        assert latest["load"]["load1_per_core"] is not None, "cpu_count reached the collector"
        assert latest["disks"][0]["inodes_percent"] is not None
        assert [n["iface"] for n in latest["net"]] == ["lo"]
        assert latest["net"][0]["rx_bytes_per_s"] > 0, "the agent's own pushes travel over lo"
        assert [d["device"] for d in latest["disk_io"]] == ([device] if device else [])
        if device:
            assert latest["disk_io"][0]["read_bytes_per_s"] is not None
        r = collector.get("/api/v2/history/net_rx_bytes", params={"device": "lo", "host": "edge1"})
        assert r.status_code == 200 and r.json()["points"], r.text
        assert any(p["max"] > 0 for p in r.json()["points"]), r.json()
        for metric in ("swap_percent", "procs_total", "load1_per_core", "inodes_percent"):
            got = collector.get(f"/api/v2/history/{metric}", params={"host": "edge1"})
            assert got.status_code == 200 and got.json()["points"], (metric, got.text)
    finally:
        agent.close()
