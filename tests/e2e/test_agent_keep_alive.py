"""A real `checkd agent` keeps one connection to a real `checkd serve` at the default push interval.

The collector's keep-alive must outlast the agent's default --push-every: when both were 5 s, the
collector closed the idle connection just as the agent reused it, and every push reconnected."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psutil

from agent_process import AgentProcess, ingest_token
from checkd_process import CheckdProcess

PUSHES = 4  # at the default --push-every (5 s): ~20 s


class ConnectionWatch:
    """The kernel's view of one process's TCP connections to one port: every distinct local port
    seen while watching (sampled every 50 ms; each connection lived seconds before the fix)."""

    def __init__(self, pid: int, port: int) -> None:
        self.process = psutil.Process(pid)
        self.port = port
        self.local_ports: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            for conn in self.process.net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == self.port:
                    self.local_ports.add(conn.laddr.port)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def test_at_the_default_push_interval_the_agent_keeps_one_connection_and_sees_no_reset(
    make_server: Callable[..., CheckdProcess],
) -> None:
    collector = make_server(args=("--host-name", "collector"))
    token = ingest_token("steady", "--data-dir", str(collector.data_dir))
    # Every option at its default but the interval: checks each second, pushed every 5 s.
    agent = AgentProcess(
        collector.data_dir.parent, host="steady", token=token, collectors=[collector.url("")], interval=1
    )
    try:
        agent.start()
        assert agent.proc is not None
        first = agent.wait_for(lambda s: s["pushed_total"] >= 1 and s["last_error"] is None)
        with ConnectionWatch(agent.proc.pid, collector.port) as watch:
            done = 0
            while done < PUSHES:  # count pushes by the checks they carried
                status = agent.wait_for(lambda s, n=done: s["pushes_total"] > first["pushes_total"] + n, 20)
                done = status["pushes_total"] - first["pushes_total"]
        final = agent.status()
        # One connection for the pushes and one for the action long poll, each opened once.
        seen = len(watch.local_ports)
        assert seen == 2, f"{seen} connections over {done} pushes: {final}"
        assert final["connections_total"] == first["connections_total"], final
        assert final["resent_total"] == 0 and final["push_errors_total"] == 0, final
        assert final["last_error"] is None
    finally:
        agent.close()
