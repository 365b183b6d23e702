"""/metrics render time with issue 12's host series: goal under 5 ms.

A. In-process: a real Monitor whose probe reads 2 network interfaces and 2 block devices
   (--net, --disk-devices), 2 disk paths, httpd, swap, inodes and the process count; two real
   checks are taken and the newest is what /metrics serves, with 5 endpoint results attached (the
   shape the endpoint checks fill). prometheus_client's generate_latest() over checkd's whole
   registry is timed --renders times (wall clock, perf_counter).
B. Over HTTP: a real `checkd serve --interval 1` with the same devices; --requests GETs of /metrics
   on one keep-alive connection, timed end to end (the render plus FastAPI and uvicorn).

Run (from the repository root):
    .venv/bin/python bench/metrics_render.py [--renders 2000] [--requests 500]
        [--net eth0,lo] [--disk-devices vda,zram0]
Results go to stdout and bench/out/metrics_render.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
from typing import Any

import harness


def in_process(renders: int, devices: dict[str, Any]) -> dict[str, Any]:
    """Part A: generate_latest() of the registry /metrics serves, over a real check."""
    from prometheus_client import generate_latest

    from checkd.api.routes.metrics import build_registry
    from checkd.config import load_settings
    from checkd.monitor import Monitor
    from checkd.probes import EndpointResult

    with harness.temp_dir("metrics") as tmp:
        sampler = {**devices, "disk_paths": ["/", str(tmp)]}
        monitor = Monitor(load_settings(data_dir=tmp, host_name=harness.HOST_NAME, sampler=sampler))
        try:
            registry = build_registry(monitor)
            monitor.probe.take_check()
            time.sleep(0.2)
            check = monitor.probe.take_check()
            check.endpoints = [
                EndpointResult(
                    f"site{i}", "http" if i % 2 else "tcp", i != 3, time.time(), 12.5 + i, status_code=200
                )
                for i in range(5)
            ]
            monitor.sampler.latest = check
            body = generate_latest(registry)
            samples = []
            for _ in range(renders):
                t0 = time.perf_counter()
                generate_latest(registry)
                samples.append((time.perf_counter() - t0) * 1000)
        finally:
            monitor.engine.dispose()
    return {
        "net_interfaces": [n.iface for n in check.net],
        "disk_devices": [d.device for d in check.disk_io],
        "body_bytes": len(body),
        "series": sum(1 for line in body.decode().splitlines() if line and not line.startswith("#")),
        **harness.stats_ms(samples),
        "mean_ms": round(sum(samples) / len(samples), 3),
    }


def over_http(requests: int, env: dict[str, str]) -> dict[str, Any]:
    """Part B: GET /metrics of a real server, one keep-alive connection."""
    with harness.temp_dir("metrics-serve") as tmp:
        served = harness.start_checkd(tmp / "data", interval=1, name="metrics", env=env)
        try:
            time.sleep(3)  # a few checks, so the host families are there
            conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
            samples = []
            for _ in range(requests):
                t0 = time.perf_counter()
                conn.request("GET", "/metrics")
                response = conn.getresponse()
                body = response.read()
                samples.append((time.perf_counter() - t0) * 1000)
                assert response.status == 200, response.status
            conn.close()
        finally:
            harness.stop_process(served.proc)
    return {"body_bytes": len(body), **harness.stats_ms(samples)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renders", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=500, help="HTTP GETs (0: skip part B)")
    ap.add_argument("--net", default="eth0,lo", help="network interfaces, comma-separated")
    ap.add_argument("--disk-devices", default="vda,zram0", help="block devices, comma-separated")
    args = ap.parse_args()
    devices = {"net_interfaces": [n for n in args.net.split(",") if n],
               "disk_devices": [d for d in args.disk_devices.split(",") if d]}  # fmt: skip
    env = {f"CHECKD_SAMPLER__{k.upper()}": json.dumps(v) for k, v in devices.items()}
    result: dict[str, Any] = {"machine": harness.machine(), "devices": devices}
    a = result["in_process"] = in_process(args.renders, devices)
    print(
        f"A. generate_latest(): p50 {a['p50_ms']} ms, p95 {a['p95_ms']} ms, mean {a['mean_ms']} ms over "
        f"{a['n']} renders ({a['series']} series, {a['body_bytes']} bytes; interfaces {a['net_interfaces']}, "
        f"devices {a['disk_devices']}); goal < 5 ms: {'PASS' if a['p95_ms'] < 5 else 'FAIL'}",
        flush=True,
    )
    if args.requests:
        b = result["over_http"] = over_http(args.requests, env)
        print(f"B. GET /metrics over HTTP: p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms ({b['n']} requests)")
    harness.save("metrics_render", result)


if __name__ == "__main__":
    main()
