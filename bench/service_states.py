"""Benchmark checkd.control: states() cost per service on the pidfile path, and an action's overhead.

Run:  PYTHONPATH=src .venv/bin/python bench/service_states.py [--rounds N] [--actions N]

- states() for 1 and 20 sysv services (pidfile + /proc; fake /etc/init.d scripts in a temp root)
  and 1 and 20 command services (pidfile + /proc); every pidfile names this (live) process.
- action overhead: act("x", "start") with start = ["true"] and the pidfile already live, minus the
  runner's own measured run time of `true` (spawn + wait), median of N; and act() minus a bare
  subprocess.run(["true"]) (so the runner's own cost is counted as overhead too).
Budgets (issue 3): <= 200 µs per sysv/command service; action overhead <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from checkd.config import ServiceSettings
from checkd.control import CommandRunner, RunResult, ServiceRegistry


class TimingRunner(CommandRunner):
    """A CommandRunner that remembers its last result, to subtract the command's own time."""

    last: RunResult | None = None

    def run(self, argv: Sequence[str], timeout: float) -> RunResult:
        self.last = super().run(argv, timeout)
        return self.last


def _pidfile(root: Path, name: str) -> Path:
    path = root / f"{name}.pid"
    path.write_text(f"{os.getpid()}\n")
    return path


def _sysv(root: Path, count: int) -> dict[str, ServiceSettings]:
    (root / "etc/init.d").mkdir(parents=True, exist_ok=True)
    services = {}
    for i in range(count):
        (root / f"etc/init.d/sysv{i}").write_text("#!/bin/sh\n")
        services[f"sysv{i}"] = ServiceSettings(pidfile=_pidfile(root, f"sysv{i}"))
    return services


def _command(root: Path, count: int) -> dict[str, ServiceSettings]:
    return {
        f"cmd{i}": ServiceSettings(start=["true"], stop=["true"], pidfile=_pidfile(root, f"cmd{i}"))
        for i in range(count)
    }


def bench_states(label: str, services: dict[str, ServiceSettings], root: Path, rounds: int) -> None:
    """Print the median per-service cost of states() over `rounds` calls."""
    runner = TimingRunner()
    registry = ServiceRegistry(services, init_system="sysv", runner=runner, root=root)
    assert set(registry.states().values()) == {"active"}, registry.states()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        registry.states()
        samples.append(time.perf_counter() - started)
    per_service = statistics.median(samples) / len(services) * 1e6
    p95 = sorted(samples)[int(len(samples) * 0.95)] / len(services) * 1e6
    spawned = "no" if runner.last is None else "SOME"
    print(f"states() {label:<22} {per_service:7.1f} µs/service median  {p95:7.1f} µs p95   {spawned} spawns")


def bench_action(root: Path, rounds: int) -> None:
    """Print the median overhead of act() beyond its command (`true`)."""
    runner = TimingRunner()
    registry = ServiceRegistry(
        {"x": ServiceSettings(start=["true"], pidfile=_pidfile(root, "x"))}, init_system="sysv", runner=runner
    )
    overheads, totals, commands, bare = [], [], [], []
    for _ in range(rounds):  # interleaved with the baseline so machine load hits both alike
        started = time.perf_counter()
        subprocess.run(["true"], check=True)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = registry.act("x", "start")
        total = time.perf_counter() - started
        assert result.ok and runner.last is not None
        totals.append(total)
        commands.append(runner.last.duration_s)
        overheads.append(total - runner.last.duration_s)
    ms = 1000
    print(
        f"act() vs a bare subprocess.run(['true']) ({statistics.median(bare) * ms:.2f} ms): overhead "
        f"{(statistics.median(totals) - statistics.median(bare)) * ms:.2f} ms median"
    )
    print(
        f"act() start=['true'] pidfile ready: overhead {statistics.median(overheads) * ms:.2f} ms median, "
        f"{max(overheads) * ms:.2f} ms max (total {statistics.median(totals) * ms:.2f} ms, "
        f"command {statistics.median(commands) * ms:.2f} ms)"
    )


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="states() calls per case (default 2000)")
    parser.add_argument("--actions", type=int, default=100, help="act() calls (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="checkd-bench-") as tmp:
        root = Path(tmp)
        for count in (1, 20):
            sysv_root = root / f"sysv{count}"
            bench_states(f"{count} sysv (pidfile)", _sysv(sysv_root, count), sysv_root, args.rounds)
        for count in (1, 20):
            bench_states(f"{count} command (pidfile)", _command(root, count), root, args.rounds)
        bench_action(root, args.actions)


if __name__ == "__main__":
    main()
