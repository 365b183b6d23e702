"""`checkd probes` against a real server: the table of endpoint checks, exit 1 while one is down."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from checkd_process import CheckdProcess, free_port, run_cli


def test_probes_lists_the_latest_results_and_exits_1_while_one_is_down(
    tmp_path: Path, make_server: Callable[..., CheckdProcess]
) -> None:
    closed = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        config = tmp_path / "checkd.toml"
        config.write_text(f"""
[[probes.tcp]]
name = "open-port"
host = "127.0.0.1"
port = {listener.getsockname()[1]}
interval = "1s"
timeout = "1s"

[[probes.tcp]]
name = "closed-port"
host = "127.0.0.1"
port = {closed}
interval = "1s"
timeout = "1s"
""")
        data = tmp_path / "data"
        server = make_server(data, args=("--config", str(config)))
        server.wait_for(lambda: all(p["up"] is not None for p in server.get("/api/v2/probes").json()))
        args = ("--data-dir", str(data), "--url", server.url(""))
        down = run_cli("probes", *args)
    assert down.returncode == 1, down.stderr
    lines = {line.split()[1]: line for line in down.stdout.splitlines() if "-port" in line}
    assert " up " in lines["open-port"] and "tcp" in lines["open-port"]
    assert "DOWN" in lines["closed-port"] and "connection refused" in lines["closed-port"]
    assert f"127.0.0.1:{closed}" in lines["closed-port"]


def test_probes_without_endpoint_checks_says_so(server: CheckdProcess) -> None:
    done = run_cli("probes", "--data-dir", str(server.data_dir), "--url", server.url(""))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no endpoint checks configured ([[probes.http]], [[probes.tcp]])"
