"""Issue 12 through a real `checkd serve`: interfaces and devices from config (a missing one warned
about at start-up), the v2 check shape, history of the new metrics with clear 422s, /metrics in
node_exporter's names and types, and Debian's prometheus scraping it and answering PromQL rate()."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from checkd_process import CheckdProcess
from prometheus_server import Prometheus

from .test_metrics import one, scrape

CONFIG = """
[sampler]
net_interfaces = ["lo", "nosuch0"]
disk_devices = ["*"]
"""


def _server(make_server: Callable[..., CheckdProcess], tmp_path: Path) -> CheckdProcess:
    config = tmp_path / "checkd.toml"
    config.write_text(CONFIG)
    server = make_server(args=("--config", str(config)))
    # Two checks: the second has rates for every device.
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    return server


def test_configured_devices_show_in_checks_history_and_metrics(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    server = _server(make_server, tmp_path)
    assert "net device 'nosuch0' is configured but does not exist; its series stay null" in server.log()
    latest = server.wait_for(lambda: (c := server.get("/api/v2/checks/latest").json())["net"] and c)
    assert [n["iface"] for n in latest["net"]] == ["lo"], "a missing interface gives no reading"
    lo = latest["net"][0]
    assert lo["rx_bytes_per_s"] is not None and lo["rx_bytes_per_s"] > 0, "the API's own traffic is on lo"
    assert latest["procs"] > 0 and latest["swap_percent"] is not None
    assert latest["load"]["load1_per_core"] is not None and latest["disks"][0]["inodes_percent"] is not None
    assert isinstance(latest["disk_io"], list) and latest["probes"] == []

    r = server.get("/api/v2/history/net_rx_bytes", params={"device": "lo"})
    assert r.status_code == 200, r.text
    assert r.json()["metric"] == "net_rx_bytes" and r.json()["points"], r.json()
    for metric in ("swap_percent", "load1_per_core", "procs_total", "inodes_percent"):
        got = server.get(f"/api/v2/history/{metric}")
        assert got.status_code == 200 and got.json()["points"], (metric, got.text)
    r = server.get("/api/v2/history/net_rx_bytes", params={"device": "nosuch0"})
    assert r.status_code == 200 and r.json()["points"] == [], "a missing device's series is empty"

    missing = server.get("/api/v2/history/disk_write_bytes")
    assert missing.status_code == 422 and missing.json()["detail"].startswith("device: required"), (
        missing.text
    )
    missing = server.get("/api/v2/history/probe_up")
    assert missing.status_code == 422 and missing.json()["detail"].startswith("probe: required"), missing.text
    unknown = server.get("/api/v2/history/net_bogus")
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("metric:"), unknown.text

    samples, types = scrape(server)
    assert types["node_network_receive_bytes"] == "counter"
    assert one(samples, "node_network_receive_bytes_total", device="lo") > 0
    for name in ("transmit_bytes", "receive_packets", "transmit_packets", "receive_errs", "transmit_errs",
                 "receive_drop", "transmit_drop"):  # fmt: skip
        assert one(samples, f"node_network_{name}_total", device="lo") >= 0, name
    assert "nosuch0" not in {lab.get("device") for lab, _ in samples["node_network_receive_bytes_total"]}
    assert one(samples, "node_filesystem_files", mountpoint="/") > 0
    assert one(samples, "node_filesystem_files_free", mountpoint="/") > 0
    assert one(samples, "node_memory_SwapTotal_bytes") >= one(samples, "node_memory_SwapFree_bytes") >= 0
    assert one(samples, "node_processes_pids") > 0 and one(samples, "node_load15") >= 0
    for device in [d["device"] for d in latest["disk_io"]]:
        assert types["node_disk_written_bytes"] == "counter"
        assert one(samples, "node_disk_written_bytes_total", device=device) >= 0
        assert one(samples, "node_disk_io_time_seconds_total", device=device) >= 0


def test_prometheus_scrapes_checkd_and_rate_of_receive_bytes_has_a_value(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    server = _server(make_server, tmp_path)
    prometheus = Prometheus(tmp_path, [f"127.0.0.1:{server.port}"]).start()
    try:
        query = 'rate(node_network_receive_bytes_total{job="checkd",device="lo"}[1m])'
        deadline = time.monotonic() + 30
        result: list[object] = []
        while time.monotonic() < deadline and not result:
            result = prometheus.query(query)
            time.sleep(0.5)
        assert result, f"no value for {query}:\n{prometheus.log.read_text()[-2000:]}"
        [sample] = result
        assert sample["metric"]["device"] == "lo"  # type: ignore[index]
        assert float(sample["value"][1]) > 0, sample  # type: ignore[index]
        up = prometheus.query('up{job="checkd"}')
        assert up and up[0]["value"][1] == "1"
    finally:
        prometheus.stop()
