"""The fleet agent's cost (issue 13): RSS and CPU per check of `checkd agent --interval 1`.

Beside it, in the same run, `checkd serve --interval 1` on its own SQLite file: what a fleet host
runs today. The agent pushes to a collector (`checkd serve`, its own sampler at 60 s) on
loopback. After --warmup s, RSS of both is read every --every s for --seconds; the agent's CPU
per check is its CPU time (/proc/<pid>/task/*/schedstat, ns) over the window divided by the checks
it took in the window (its status file, SIGUSR1).

Run (from the repository root):
    .venv/bin/python bench/agent_cost.py [--warmup 30] [--seconds 120] [--every 5]
Results go to stdout and bench/out/agent_cost.json.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import time
from pathlib import Path

from harness import CHECKD, log, proc_cpu_ns, rss_kib, save, start_checkd, stop_process, temp_dir

RSS_GOAL_MIB = 18.0
CPU_GOAL_MS = 0.3


def _status(proc: subprocess.Popen[bytes], path: Path) -> dict[str, float]:
    before = path.stat().st_mtime_ns if path.exists() else 0
    proc.send_signal(signal.SIGUSR1)
    for _ in range(200):
        if path.exists() and path.stat().st_mtime_ns != before:
            try:
                return dict(json.loads(path.read_text()))
            except ValueError:
                pass
        time.sleep(0.02)
    raise RuntimeError("the agent wrote no status")


def main() -> None:
    """Run the measurement and print it."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warmup", type=float, default=30)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--every", type=float, default=5)
    args = p.parse_args()
    with temp_dir("checkd-agent-bench-") as work:
        collector = start_checkd(work / "collector", interval=60, name="collector")
        single = start_checkd(work / "single", interval=1, name="serve-1s")
        agent = None
        try:
            made = subprocess.run(
                [str(CHECKD), "hosts", "add", "bench-agent", "--data-dir", str(collector.data_dir)],
                check=True,
                capture_output=True,
                text=True,
            )
            (work / "token").write_text(made.stdout)
            status_file = work / "agent-status.json"
            argv = [
                str(CHECKD),
                "agent",
                "--collector",
                collector.url(""),
                "--token-file",
                str(work / "token"),
            ]
            argv += ["--interval", "1", "--spool-dir", str(work / "spool"), "--host-name", "bench-agent"]
            argv += ["--status-file", str(status_file)]
            with (work / "agent.log").open("wb") as out:
                agent = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
            log(f"warming up {args.warmup:.0f} s")
            time.sleep(args.warmup)
            first = _status(agent, status_file)
            cpu0, tids0 = proc_cpu_ns(agent.pid)
            samples: list[tuple[float, int, int]] = []
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                samples.append((time.monotonic(), rss_kib(agent.pid), rss_kib(single.pid)))
                time.sleep(args.every)
            cpu1, tids1 = proc_cpu_ns(agent.pid)
            if tids1 != tids0:
                log(f"threads changed in the window: {sorted(tids0)} -> {sorted(tids1)}")
            last = _status(agent, status_file)
        finally:
            if agent is not None:
                stop_process(agent)
            stop_process(single.proc)
            stop_process(collector.proc)
    checks = last["checks_total"] - first["checks_total"]
    agent_rss = [a / 1024 for _, a, _ in samples]
    serve_rss = [s / 1024 for _, _, s in samples]
    cpu_ms = (cpu1 - cpu0) / 1e6 / max(1, checks)
    result = {
        "agent_rss_mib": {"first": agent_rss[0], "last": agent_rss[-1], "max": max(agent_rss)},
        "serve_1s_rss_mib": {"first": serve_rss[0], "last": serve_rss[-1], "max": max(serve_rss)},
        "agent_cpu_ms_per_check": cpu_ms,
        "checks_in_window": checks,
        "pushed_total": last["pushed_total"],
        "push_errors_total": last["push_errors_total"],
        "goals": {"rss_mib": RSS_GOAL_MIB, "cpu_ms_per_check": CPU_GOAL_MS},
    }
    print(json.dumps(result, indent=2))
    rss_ok = max(agent_rss) <= RSS_GOAL_MIB
    print(
        f"agent RSS max {max(agent_rss):.2f} MiB (serve --interval 1: {max(serve_rss):.2f} MiB): "
        f"{'PASS' if rss_ok else 'FAIL'} against {RSS_GOAL_MIB} MiB"
    )
    print(
        f"agent CPU {cpu_ms:.3f} ms per check: "
        f"{'PASS' if cpu_ms <= CPU_GOAL_MS else 'FAIL'} against {CPU_GOAL_MS} ms"
    )
    save("agent_cost", result)


if __name__ == "__main__":
    main()
