"""Sampler cost: CPU per check, end to end (probe + SQLite write), with one service (httpd).

Goal (issue 2): at most 1 ms of CPU per check at interval 1 s, i.e. at most 0.1 % of a core.
References measured on this machine: Monit 5.33 at 1 s 0.47 %, node_exporter scraped every
second 0.97 %, Glances 4.5.8 web mode 0.33 % of a core.

Two measurements, in one run:

A. In-process: the real Settings, ServiceRegistry (httpd -> apache2 via the sysv backend: pidfile
   plus /proc, no process spawn), CheckProbe, Sampler and a real SQLite file. It calls
   Sampler.sample_once() and Sampler.flush() --checks times (each is one probe plus one write
   transaction, as the probe and writer threads do) back to back and reads the process CPU time
   (time.process_time) around each call; it also times the parts alone (probe, service states,
   write). Then --paced-checks more, one every --pace seconds (default 1 s, as in production:
   caches are cold again each time), with the probe and the write of each timed apart. The
   rollup fold of the upkeep thread is not part of A (bench/write_floor.py measures it); it is part of B.

B. A real `checkd serve --interval 1` next to an idle one (`sampler.autostart = false`) and,
   unless --no-glances, Glances in web mode (`glances -w --disable-webui`, default refresh;
   installed into bench/.venv-glances on first use), all at once, for --rounds rounds (the
   median is reported). After a warm-up, the CPU time of each process over a --seconds window
   is read from /proc (per-thread schedstat in ns, and utime+stime ticks as a cross-check); no
   HTTP request is sent during the window. Net sampler cost = sampling - idle; per check = net /
   checks stored in the window (counted from the database file).

Issue 12 adds network interfaces, block devices, swap, inodes and the process count to each
check: --net and --disk-devices name them (comma-separated; default: the config's default "*",
every non-virtual one), in both parts; the goal is unchanged with 2 interfaces and 2 devices
(`--net eth0,lo --disk-devices vda,zram0` here).

Run (from the repository root):
    .venv/bin/python bench/sampler_cost.py [--checks 2000] [--paced-checks 60] [--pace 1.0]
        [--seconds 60] [--warmup 15] [--rounds 3] [--no-serve] [--no-glances]
        [--net IFACE,...] [--disk-devices DEV,...]
Results go to stdout and bench/out/sampler_cost.json.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import harness as common


def in_process(
    checks: int, paced_checks: int, pace: float, services: int, devices: dict[str, Any]
) -> dict[str, Any]:
    """Part A: CPU per Sampler.sample_once() with the real probe, registry and SQLite file."""
    from checkd import store
    from checkd.config import ServiceSettings, load_settings
    from checkd.control import ServiceRegistry
    from checkd.db import make_engine, migrate
    from checkd.probes import CheckProbe
    from checkd.sampler import Sampler

    with common.temp_dir("sampler") as tmp:
        extra = {f"svc{i:02d}": ServiceSettings(unit=f"svc{i:02d}") for i in range(1, services)}
        settings = load_settings(data_dir=tmp, host_name=common.HOST_NAME, sampler=devices)
        if extra:
            settings = settings.model_copy(update={"services": {**settings.services, **extra}})
        registry = ServiceRegistry(settings.services)
        probe = CheckProbe(
            disk_paths=settings.sampler.disk_paths,
            service_states=registry.states,
            net_interfaces=settings.sampler.net_interfaces,
            disk_devices=settings.sampler.disk_devices,
            host_counts=True,  # as the server's probe (monitor.py)
        )
        engine = make_engine(settings.database_url)
        migrate(engine)
        sampler = Sampler(engine=engine, host=common.HOST_NAME, probe=probe, interval_s=1)
        states = {k: str(v) for k, v in registry.states().items()}
        backends = {i.name: f"{i.backend}:{i.unit}" for i in registry.infos()}

        def timed(fn: Any, n: int) -> list[float]:
            out = []
            for _ in range(n):
                t0 = time.process_time()
                fn()
                out.append((time.process_time() - t0) * 1000)
            return out

        def take_and_write() -> None:  # what the probe thread and then the writer thread do
            sampler.sample_once()
            sampler.flush()

        timed(take_and_write, 50)  # warm-up: first-use ids, statement caches, psutil priming
        wall0, cpu0 = time.perf_counter(), time.process_time()
        per_check = timed(take_and_write, checks)
        cpu_total = time.process_time() - cpu0
        wall_total = time.perf_counter() - wall0

        probe_ms = timed(probe.take_check, checks)
        states_ms = timed(registry.states, checks)
        sample = probe.take_check()

        def write() -> None:
            with engine.begin() as conn:
                store.insert_checks(conn=conn, host=common.HOST_NAME, items=[sample])

        write_ms = timed(write, checks)

        # Paced: one check every `pace` seconds, as the loop does, so caches are as cold as in
        # production; probe and write of the same check are timed apart.
        paced_probe, paced_write = [], []
        for _ in range(paced_checks):
            time.sleep(pace)
            t0 = time.process_time()
            sample = probe.take_check()
            t1 = time.process_time()
            write()
            paced_probe.append((t1 - t0) * 1000)
            paced_write.append((time.process_time() - t1) * 1000)
        paced_total = [p + w for p, w in zip(paced_probe, paced_write, strict=True)]
        errors = probe.errors.total + sampler.write_errors_total
        engine.dispose()

    mean = cpu_total * 1000 / checks
    return {
        "checks": checks,
        "services": len(states),
        "service_backends": backends,
        "service_states": states,
        "pace_s": pace,
        "cpu_ms_per_check_mean": round(mean, 4),
        "cpu_ms_per_check_p50": round(common.pct_of(per_check, 50), 4),
        "cpu_ms_per_check_p99": round(common.pct_of(per_check, 99), 4),
        "wall_ms_per_check_mean": round(wall_total * 1000 / checks, 4),
        "probe_ms_mean": round(sum(probe_ms) / checks, 4),
        "service_states_ms_mean": round(sum(states_ms) / checks, 4),
        "write_ms_mean": round(sum(write_ms) / checks, 4),
        "pct_of_core_at_1s": round(mean / 1000 * 100, 4),
        "net_interfaces": [n.iface for n in sample.net],
        "disk_devices": [d.device for d in sample.disk_io],
        "paced_checks": paced_checks,
        "paced_cpu_ms_per_check_mean": round(sum(paced_total) / max(1, paced_checks), 4),
        "paced_cpu_ms_per_check_p50": round(common.pct_of(paced_total, 50), 4),
        "paced_probe_ms_mean": round(sum(paced_probe) / max(1, paced_checks), 4),
        "paced_write_ms_mean": round(sum(paced_write) / max(1, paced_checks), 4),
        "errors": errors,
    }


def _cpu(pid: int) -> tuple[int, frozenset[int], float]:
    ns, tids = common.proc_cpu_ns(pid)
    return ns, tids, common.proc_cpu_ticks_s(pid)


def serve_round(seconds: float, warmup: float, glances: bool, env: dict[str, str]) -> dict[str, Any]:
    """Part B: one window of CPU time of a sampling checkd, an idle checkd and (optionally) Glances."""
    with common.temp_dir("serve") as tmp:
        procs: list[common.Served] = []
        try:
            sampling = common.start_checkd(tmp / "sampling", interval=1, name="sampling", env=env)
            procs.append(sampling)
            idle = common.start_checkd(tmp / "idle", interval=1, autostart=False, name="idle", env=env)
            procs.append(idle)
            if glances:
                procs.append(common.start_glances(tmp / "glances"))
            time.sleep(warmup)  # past start-up, and past anyio's 10 s idle timeout of worker threads
            db = sampling.data_dir / "checkd.db"  # type: ignore[operator]
            n0 = common.count_checks(db)
            before = {p.name: _cpu(p.pid) for p in procs}
            t0 = time.monotonic()
            time.sleep(seconds)
            after = {p.name: _cpu(p.pid) for p in procs}
            window = time.monotonic() - t0
            n1 = common.count_checks(db)
            rss = {p.name: common.rss_kib(p.pid) for p in procs}
        finally:
            for p in procs:
                common.stop_process(p.proc)
    out: dict[str, Any] = {"window_s": round(window, 2), "checks_in_window": n1 - n0}
    for name, (ns0, tids0, ticks0) in before.items():
        ns1, tids1, ticks1 = after[name]
        ns_ok = tids0 == tids1
        cpu_s = (ns1 - ns0) / 1e9 if ns_ok else ticks1 - ticks0
        out[name] = {
            "cpu_s": round(cpu_s, 5),
            "cpu_s_ticks": round(ticks1 - ticks0, 3),
            "source": "schedstat" if ns_ok else "stat ticks (a thread came or went)",
            "pct_of_core": round(cpu_s / window * 100, 4),
            "rss_mib": round(rss[name] / 1024, 1),
        }
    net = out["sampling"]["cpu_s"] - out["idle"]["cpu_s"]
    out["net_sampler_cpu_s"] = round(net, 5)
    out["net_pct_of_core"] = round(net / window * 100, 4)
    out["net_cpu_ms_per_check"] = round(net * 1000 / max(1, n1 - n0), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checks", type=int, default=2000, help="in-process checks to time")
    ap.add_argument("--paced-checks", type=int, default=60, help="in-process checks taken one per --pace")
    ap.add_argument("--pace", type=float, default=1.0, help="seconds between paced in-process checks")
    ap.add_argument("--services", type=int, default=1, help="services in each in-process check")
    ap.add_argument("--seconds", type=float, default=60, help="serve window per round")
    ap.add_argument("--warmup", type=float, default=15, help="serve warm-up before each window")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-serve", action="store_true", help="only the in-process part")
    ap.add_argument("--no-glances", action="store_true", help="do not run Glances next to checkd")
    ap.add_argument("--net", help="network interfaces, comma-separated (default: the config's)")
    ap.add_argument("--disk-devices", help="block devices, comma-separated (default: the config's)")
    args = ap.parse_args()
    devices: dict[str, Any] = {}
    if args.net is not None:
        devices["net_interfaces"] = [n for n in args.net.split(",") if n]
    if args.disk_devices is not None:
        devices["disk_devices"] = [d for d in args.disk_devices.split(",") if d]
    env = {f"CHECKD_SAMPLER__{key.upper()}": json.dumps(value) for key, value in devices.items()}

    result: dict[str, Any] = {"machine": common.machine(), "devices": devices}
    print("A. in-process Sampler.sample_once() ...", flush=True)
    a = in_process(args.checks, args.paced_checks, args.pace, args.services, devices)
    result["in_process"] = a
    print(
        f"   {a['checks']} checks, services {a['service_backends']} {a['service_states']}, "
        f"interfaces {a['net_interfaces']}, block devices {a['disk_devices']}\n"
        f"   CPU per check: mean {a['cpu_ms_per_check_mean']} ms, p50 {a['cpu_ms_per_check_p50']} ms, "
        f"p99 {a['cpu_ms_per_check_p99']} ms  (probe {a['probe_ms_mean']} ms of which services "
        f"{a['service_states_ms_mean']} ms; write {a['write_ms_mean']} ms)  -> "
        f"{a['pct_of_core_at_1s']} % of a core at 1 s; goal <= 1 ms: "
        f"{'PASS' if a['cpu_ms_per_check_mean'] <= 1 else 'FAIL'}\n"
        f"   paced, one check every {a['pace_s']} s ({a['paced_checks']} checks): mean "
        f"{a['paced_cpu_ms_per_check_mean']} ms, p50 {a['paced_cpu_ms_per_check_p50']} ms (probe "
        f"{a['paced_probe_ms_mean']} ms, write {a['paced_write_ms_mean']} ms); goal <= 1 ms: "
        f"{'PASS' if a['paced_cpu_ms_per_check_mean'] <= 1 else 'FAIL'}",
        flush=True,
    )
    if not args.no_serve:
        glances = not args.no_glances  # installs bench/.venv-glances on first use
        rounds = []
        for r in range(args.rounds):
            print(f"B. round {r + 1}/{args.rounds}: checkd serve (sampling vs idle) ...", flush=True)
            b = serve_round(args.seconds, args.warmup, glances, env)
            rounds.append(b)
            g = f", glances {b['glances']['pct_of_core']} %" if "glances" in b else ""
            print(
                f"   window {b['window_s']} s, {b['checks_in_window']} checks: sampling "
                f"{b['sampling']['pct_of_core']} %, idle {b['idle']['pct_of_core']} %{g} of a core; "
                f"net {b['net_pct_of_core']} % = {b['net_cpu_ms_per_check']} ms per check",
                flush=True,
            )
        result["serve_rounds"] = rounds
        summary = {
            key: round(common.median([r[key] for r in rounds]), 4)
            for key in ("net_pct_of_core", "net_cpu_ms_per_check")
        }
        for name in ("sampling", "idle", "glances"):
            if all(name in r for r in rounds):
                values = [r[name]["pct_of_core"] for r in rounds]
                summary[f"{name}_pct_of_core"] = round(common.median(values), 4)
        result["serve_median"] = summary
        print(f"   median over {len(rounds)} rounds: {summary}")
        print(
            f"   goal <= 0.1 % of a core (net): {'PASS' if summary['net_pct_of_core'] <= 0.1 else 'FAIL'}; "
            f"<= 1 ms per check: {'PASS' if summary['net_cpu_ms_per_check'] <= 1 else 'FAIL'}"
        )
    common.save("sampler_cost", result)


if __name__ == "__main__":
    main()
