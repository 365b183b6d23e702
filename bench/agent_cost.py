"""The fleet agent's cost (issue 13): RSS and CPU per check of `checkd agent --interval 1`.

The agent pushes to a collector (`checkd serve`, its own sampler at 60 s) on loopback, sampling
swap, the process count, every interface and block device ("*", the default) and /. Beside it, in
the same run: `checkd serve --interval 1` on its own SQLite file (what a fleet host runs
otherwise) and, with --baseline-tree DIR, the agent of another checkout (e.g. main: `git worktree
add /tmp/main-tree main`) run by the same interpreter, pushing to the same collector. After
--warmup s, RSS is read every --every s for --seconds; each agent's CPU per check is its CPU time
(/proc/<pid>/task/*/schedstat, ns) over the window divided by the checks it took in the window
(its status file, SIGUSR1). A third process, "floor" (bench/agent_floor.py), is the least a Python
agent can do: the same interpreter waking on the same schedule and making the same reads as a
check, parsing and sending nothing.

Run (from the repository root):
    .venv/bin/python bench/agent_cost.py [--warmup 30] [--seconds 120] [--every 5] [--baseline-tree DIR]
Results go to stdout and bench/out/agent_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    CHECKD,
    ROOT,
    Served,
    log,
    proc_cpu_ns,
    rss_kib,
    save,
    start_checkd,
    stop_process,
    temp_dir,
)

RSS_GOAL_MIB = 18.0
CPU_GOAL_MS = 0.3
# What the console script `checkd` runs, with the tree chosen by PYTHONPATH.
LAUNCH = "import sys; from checkd.launch import main; sys.argv[0] = 'checkd'; sys.exit(main())"


@dataclass
class Agent:
    """One agent process under measurement."""

    name: str
    proc: subprocess.Popen[bytes]
    status_file: Path
    rss_kib: list[int] = field(default_factory=list)
    cpu_ns: list[int] = field(default_factory=list)
    checks: list[float] = field(default_factory=list)
    last: dict[str, float] = field(default_factory=dict)

    def status(self) -> dict[str, float]:
        """Ask for the status file (SIGUSR1) and read it once it has been rewritten."""
        path = self.status_file
        before = path.stat().st_mtime_ns if path.exists() else 0
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(200):
            if path.exists() and path.stat().st_mtime_ns != before:
                try:
                    return dict(json.loads(path.read_text()))
                except ValueError:
                    pass
            time.sleep(0.02)
        raise RuntimeError(f"the {self.name} agent wrote no status")

    def mark(self) -> None:
        """Record CPU time and checks taken now (the window's ends)."""
        cpu, _ = proc_cpu_ns(self.proc.pid)
        self.last = self.status()
        self.cpu_ns.append(cpu)
        self.checks.append(self.last["checks_total"])

    def result(self) -> dict[str, object]:
        """RSS first/last/max and per minute, CPU per check over the window."""
        mib = [k / 1024 for k in self.rss_kib]
        checks = self.checks[-1] - self.checks[0]
        cpu_ms = (self.cpu_ns[-1] - self.cpu_ns[0]) / 1e6 / max(1, checks)
        return {
            "rss_mib": {"first": mib[0], "last": mib[-1], "max": max(mib), "min": min(mib)},
            "cpu_ms_per_check": cpu_ms,
            "checks_in_window": checks,
            "pushed_total": self.last.get("pushed_total"),
            "push_errors_total": self.last.get("push_errors_total"),
            "modules": len(self.last.get("modules", [])),  # type: ignore[arg-type]
        }


def start_agent(name: str, work: Path, collector: Served, tree: Path) -> Agent:
    """`checkd agent --interval 1` of the checkout `tree`, with its own host token and spool."""
    made = subprocess.run(
        [str(CHECKD), "hosts", "add", name, "--data-dir", str(collector.data_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    home = work / name
    home.mkdir()
    (home / "token").write_text(made.stdout)
    argv = [sys.executable, "-c", LAUNCH, "agent", "--collector", collector.url("")]
    argv += ["--token-file", str(home / "token"), "--interval", "1", "--spool-dir", str(home / "spool")]
    argv += ["--host-name", name, "--status-file", str(home / "status.json")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKD_")}
    env["PYTHONPATH"] = str(tree / "src")
    with (home / "agent.log").open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Agent(name, proc, home / "status.json")


def start_floor(work: Path) -> Agent:
    """bench/agent_floor.py, by the same interpreter."""
    home = work / "floor"
    home.mkdir()
    argv = [sys.executable, str(Path(__file__).with_name("agent_floor.py")), str(home / "status.json")]
    return Agent("floor", subprocess.Popen(argv), home / "status.json")


def _verdict(name: str, res: dict[str, object]) -> str:
    rss = res["rss_mib"]["max"]  # type: ignore[index]
    cpu = float(res["cpu_ms_per_check"])  # type: ignore[arg-type]
    return (
        f"{name}: RSS max {rss:.2f} MiB ({'PASS' if rss <= RSS_GOAL_MIB else 'FAIL'} against "
        f"{RSS_GOAL_MIB}), CPU {cpu:.3f} ms per check ({'PASS' if cpu <= CPU_GOAL_MS else 'FAIL'} "
        f"against {CPU_GOAL_MS})"
    )


def main() -> None:
    """Run the measurement and print it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warmup", type=float, default=30)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--every", type=float, default=5)
    p.add_argument("--baseline-tree", type=Path, default=None, help="another checkout's agent beside")
    p.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose agent is measured")
    args = p.parse_args()
    trees = {"agent": args.tree.resolve()}
    if args.baseline_tree is not None:
        trees["baseline"] = args.baseline_tree.resolve()
    with temp_dir("checkd-agent-bench-") as work:
        collector = start_checkd(work / "collector", interval=60, name="collector")
        single = start_checkd(work / "single", interval=1, name="serve-1s")
        agents: list[Agent] = []
        serve_rss: list[int] = []
        minutes: list[dict[str, float]] = []
        try:
            agents = [start_agent(name, work, collector, tree) for name, tree in trees.items()]
            agents.append(start_floor(work))
            log(f"warming up {args.warmup:.0f} s")
            time.sleep(args.warmup)
            for agent in agents:
                agent.mark()
            started = time.monotonic()
            end = started + args.seconds
            while time.monotonic() < end:
                for agent in agents:
                    agent.rss_kib.append(rss_kib(agent.proc.pid))
                serve_rss.append(rss_kib(single.pid))
                elapsed = time.monotonic() - started
                if elapsed >= 60 * len(minutes):  # one line a minute: flat or growing
                    minutes.append({"s": round(elapsed)} | {a.name: a.rss_kib[-1] / 1024 for a in agents})
                    log(" ".join(f"{k} {v:.2f}" for k, v in minutes[-1].items()))
                time.sleep(args.every)
            for agent in agents:
                agent.mark()
        finally:
            for agent in agents:
                stop_process(agent.proc)
            stop_process(single.proc)
            stop_process(collector.proc)
    result: dict[str, object] = {a.name: a.result() for a in agents}
    result["trees"] = {name: str(tree) for name, tree in trees.items()}
    result["rss_mib_per_minute"] = minutes
    result["serve_1s_rss_mib"] = {"first": serve_rss[0] / 1024, "max": max(serve_rss) / 1024}
    result["goals"] = {"rss_mib": RSS_GOAL_MIB, "cpu_ms_per_check": CPU_GOAL_MS}
    print(json.dumps(result, indent=2))
    for agent in agents:
        print(_verdict(agent.name, result[agent.name]))  # type: ignore[arg-type]
    print(f"serve --interval 1: RSS max {max(serve_rss) / 1024:.2f} MiB")
    save("agent_cost", result)


if __name__ == "__main__":
    main()
