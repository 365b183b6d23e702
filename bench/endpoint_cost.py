"""Endpoint checks beside the sampler: the sampler's CPU per check with 5 endpoint checks running
(issue 12: at most 1 ms), and the endpoint workers' own CPU per run, reported apart.

One run, in-process, rounds alternated: "off" rounds take checks with no endpoint checks, "on"
rounds with 5 running every second in their worker pool: 2 http against a local `python -m
http.server`, 1 https against `openssl s_server` (a certificate made for the run), 1 tcp to an
open port and 1 to a closed one. The targets are separate processes, so their CPU never counts.
The check is the real one: CheckProbe (cpu, memory, load, `/`, httpd's state, the network
interfaces and block devices given, the endpoint results) and Sampler on a real SQLite file; one
`sample_once()` + `flush()` per --pace seconds on this thread, its CPU read with
time.thread_time() (the workers' network waits and CPU are on other threads and do not count).
The workers' CPU per run is what their threads spent inside runs (thread_time), and, as a
cross-check, all of this process's CPU off the sampling thread divided by the runs.

Run (from the repository root):
    .venv/bin/python bench/endpoint_cost.py [--seconds 30] [--rounds 2] [--pace 1.0]
        [--net lo,eth0] [--devices vda,zram0]
Results go to stdout and bench/out/endpoint_cost.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness as common

GOAL_MS = 1.0


def _pick(where: str, skip: tuple[str, ...]) -> list[str]:
    names = sorted(p.name for p in Path(where).iterdir() if not p.name.startswith(skip))
    return names[:2]


def _targets(tmp: Path) -> tuple[list[subprocess.Popen[bytes]], dict[str, Any], Path]:
    """Start the local http and https sites; the [probes] section for them; the CA file."""
    http_port, tls_port, closed = common.free_port(), common.free_port(), common.free_port()
    (tmp / "index.html").write_text("hello from the endpoint bench\n")
    cert, key = tmp / "site.pem", tmp / "site.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "30", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(http_port),
             "--directory", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{tls_port}", "-cert", str(cert), "-key", str(key),
             "-www", "-quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    every = {"interval": "1s", "timeout": "1s"}
    section = {
        "http": [
            {"name": "page", "url": f"http://127.0.0.1:{http_port}/", **every},
            {
                "name": "page-text",
                "url": f"http://127.0.0.1:{http_port}/",
                "contains": "endpoint bench",
                **every,
            },
            {"name": "tls", "url": f"https://127.0.0.1:{tls_port}/", "ca_file": str(cert), **every},
        ],
        "tcp": [
            {"name": "open", "host": "127.0.0.1", "port": http_port, **every},
            {"name": "closed", "host": "127.0.0.1", "port": closed, **every},
        ],
    }
    time.sleep(1.0)  # both listening
    return procs, section, cert


def run(seconds: float, rounds: int, pace: float, net: list[str], devices: list[str]) -> dict[str, Any]:
    """Alternate off/on rounds; CPU per check on the sampling thread, and per endpoint run."""
    from checkd.config import load_settings
    from checkd.config_probes import ProbesSettings
    from checkd.control import ServiceRegistry
    from checkd.db import make_engine, migrate
    from checkd.endpoints import EndpointRunner, build_checks
    from checkd.probes import CheckProbe
    from checkd.probes.readings import EndpointResult
    from checkd.sampler import Sampler

    with common.temp_dir("endpoints") as tmp:
        procs, section, _ = _targets(tmp)
        try:
            settings = load_settings(data_dir=tmp, host_name=common.HOST_NAME)
            probes = ProbesSettings.model_validate(section)
            registry = ServiceRegistry(settings.services)
            current: list[Callable[[], list[EndpointResult]]] = [list]  # the running runner's snapshot

            def endpoint_results() -> list[EndpointResult]:
                return current[0]()

            probe = CheckProbe(
                disk_paths=settings.sampler.disk_paths,
                service_states=registry.states,
                net_interfaces=net,
                disk_devices=devices,
                endpoint_results=endpoint_results,
            )
            engine = make_engine(settings.database_url)
            migrate(engine)
            sampler = Sampler(engine=engine, host=common.HOST_NAME, probe=probe, interval_s=1)
            for _ in range(20):  # warm-up: first-use ids, statement caches, psutil priming
                sampler.sample_once()
                sampler.flush()
            out: dict[str, Any] = {"off": [], "on": []}
            for r in range(rounds * 2):
                mode = "on" if r % 2 else "off"
                runner = EndpointRunner(build_checks(probes)) if mode == "on" else None
                if runner is not None:
                    current[0] = runner.latest
                    runner.start()
                    time.sleep(2.0)  # every check has run once
                per_check, attached = [], []
                cpu0, main0 = time.process_time(), time.thread_time()
                status0 = runner.status() if runner else None
                deadline = time.monotonic() + seconds
                next_at = time.monotonic()
                while time.monotonic() < deadline:
                    t0 = time.thread_time()
                    check = sampler.sample_once()
                    sampler.flush()
                    per_check.append((time.thread_time() - t0) * 1000)
                    attached.append(len(check.endpoints))
                    next_at += pace
                    time.sleep(max(0.0, next_at - time.monotonic()))
                others_s = (time.process_time() - cpu0) - (time.thread_time() - main0)
                row: dict[str, Any] = {"round": r, **common.stats_ms(per_check)}
                row["mean_ms"] = round(sum(per_check) / len(per_check), 3)
                if runner is not None and status0 is not None:
                    st = runner.status()
                    runs = st.runs_total - status0.runs_total
                    row["endpoints_attached"] = min(attached)
                    row["endpoint_runs"] = runs
                    row["worker_cpu_ms_per_run"] = round(
                        (st.cpu_seconds_total - status0.cpu_seconds_total) / runs * 1000, 3
                    )
                    row["off_thread_cpu_ms_per_run"] = round(others_s / runs * 1000, 3)
                    row["down"] = sorted(e.name for e in runner.latest() if not e.up)
                    runner.stop()
                    current[0] = list
                common.log(f"round {r} ({mode}): {row}")
                out[mode].append(row)
            engine.dispose()
            return out
        finally:
            for proc in procs:
                common.stop_process(proc)


def main() -> None:
    """Parse flags, run, print the summary and PASS/FAIL, save the JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between checks")
    parser.add_argument("--net", default=",".join(_pick("/sys/class/net", ("ifb",))), help="interfaces")
    parser.add_argument("--devices", default=",".join(_pick("/sys/block", ("loop",))), help="block devices")
    args = parser.parse_args()
    net = [n for n in args.net.split(",") if n]
    devices = [d for d in args.devices.split(",") if d]
    common.log(f"interfaces {net}, devices {devices}; {args.rounds} off/on pairs of {args.seconds:g} s")
    result = run(args.seconds, args.rounds, args.pace, net, devices)
    off = common.median([r["p50_ms"] for r in result["off"]])
    on = common.median([r["p50_ms"] for r in result["on"]])
    workers = common.median([r["worker_cpu_ms_per_run"] for r in result["on"]])
    others = common.median([r["off_thread_cpu_ms_per_run"] for r in result["on"]])
    verdict = "PASS" if on <= GOAL_MS else "FAIL"
    print(f"\nsampler CPU per check, p50: {on:.3f} ms with 5 endpoint checks, {off:.3f} ms without")
    print(
        f"endpoint workers: {workers:.3f} ms CPU per run ({others:.3f} ms of all CPU off the sampling thread)"
    )
    print(f"goal: sampler <= {GOAL_MS} ms per check with 5 endpoint checks: {verdict}")
    summary = {"sampler_p50_ms_on": on, "sampler_p50_ms_off": off, "worker_cpu_ms_per_run": workers}
    common.save(
        "endpoint_cost",
        {**result, "summary": {**summary, "verdict": verdict}, "net": net, "devices": devices},
    )


if __name__ == "__main__":
    main()
