"""/metrics: every required family in the Prometheus text format, with sane values, served from memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from checkd_process import BROKEN_SERVICE_CONFIG, CheckdProcess

STATES = {"active", "inactive", "failed", "activating", "deactivating", "unknown", "not-found"}
REQUIRED = [
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_avail_bytes",
    "node_load1",
    "node_systemd_unit_state",
    "checkd_cpu_percent",
    "checkd_sampler_running",
    "checkd_checks_total",
    "checkd_check_errors_total",
    "checkd_check_duration_seconds_bucket",
    "checkd_check_duration_seconds_count",
    "checkd_check_duration_seconds_sum",
    "checkd_last_check_timestamp_seconds",
    "checkd_service_actions_total",
]

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(server: CheckdProcess) -> tuple[Samples, dict[str, str]]:
    """Sample values by sample name, and each family's type, parsed by prometheus_client's parser."""
    r = server.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(r.text):
        types[family.name] = family.type
        for s in family.samples:
            samples.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return samples, types


def one(samples: Samples, name: str, **labels: str) -> float:
    """The value of the single sample `name` whose labels include `labels`."""
    found = [v for lab, v in samples[name] if all(lab.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


def test_metrics_has_every_family_with_sane_values(
    make_server: Callable[..., CheckdProcess], tmp_path: Path
) -> None:
    config = tmp_path / "checkd.toml"
    config.write_text(BROKEN_SERVICE_CONFIG)
    server = make_server(args=("--config", str(config)))
    server.wait_for(lambda: server.get("/api/v2/sampler").json()["checks_total"] >= 2)
    r = server.post("/api/v2/services/broken/start", headers=server.auth())
    assert r.status_code == 502, r.text

    samples, types = scrape(server)
    missing = [name for name in REQUIRED if name not in samples]
    assert not missing, f"missing from /metrics: {missing}"

    total = one(samples, "node_memory_MemTotal_bytes")
    avail = one(samples, "node_memory_MemAvailable_bytes")
    assert 0 < avail <= total
    size = one(samples, "node_filesystem_size_bytes", mountpoint="/")
    free = one(samples, "node_filesystem_avail_bytes", mountpoint="/")
    assert 0 <= free <= size and size > 0
    assert one(samples, "node_load1") >= 0
    assert 0 <= one(samples, "checkd_cpu_percent") <= 100

    units: dict[str, dict[str, float]] = {}
    for labels, value in samples["node_systemd_unit_state"]:
        assert value in (0.0, 1.0)
        units.setdefault(labels["name"], {})[labels["state"]] = value
    assert "apache2" in units and "broken" in units, units
    for name, by_state in units.items():
        assert set(by_state) == STATES, name
        assert sum(by_state.values()) == 1, (name, by_state)
    assert units["broken"]["failed"] == 1  # /bin/false exits 1: LSB "dead, pidfile left"

    assert one(samples, "checkd_sampler_running") == 1
    assert types["checkd_checks"] == "counter" and types["checkd_check_errors"] == "counter"
    assert one(samples, "checkd_checks_total") >= 2
    assert one(samples, "checkd_check_errors_total") >= 0
    assert abs(one(samples, "checkd_last_check_timestamp_seconds") - time.time()) < 60

    assert types["checkd_check_duration_seconds"] == "histogram"
    count = one(samples, "checkd_check_duration_seconds_count")
    assert count >= 2
    assert 0 < one(samples, "checkd_check_duration_seconds_sum") < count * 30
    buckets = sorted((float(lab["le"]), v) for lab, v in samples["checkd_check_duration_seconds_bucket"])
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)  # cumulative
    assert buckets[-1] == (float("inf"), count)

    assert one(samples, "checkd_service_actions_total", service="broken", action="start", ok="false") == 1
    assert one(samples, "checkd_service_actions_total", service="broken", action="start", ok="true") == 0
    assert one(samples, "checkd_service_actions_total", service="httpd", action="stop", ok="true") == 0

    r = server.post("/api/v2/sampler/stop", headers=server.auth())
    assert r.status_code == 200
    samples, _ = scrape(server)
    assert one(samples, "checkd_sampler_running") == 0


def test_metrics_are_served_without_a_database_query(tmp_path: Path) -> None:
    """A scrape reads the sampler's newest check and counters from memory: zero SQL statements."""
    from checkd.api.routes.metrics import build_registry
    from checkd.config import Settings
    from checkd.monitor import Monitor
    from checkd.probes import Check, DiskUsage, LoadAverage, MemoryUsage

    monitor = Monitor(Settings(data_dir=tmp_path))
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(monitor.engine, "before_cursor_execute", count)
    try:
        registry = build_registry(monitor)
        monitor.sampler.latest = Check(
            taken_at=time.time(),
            cpu=12.5,
            memory=MemoryUsage(total=1000, available=400, used=600, percent=60.0),
            load=LoadAverage(0.25, 0.5, 0.75),
            disks=[DiskUsage(path="/data", total=500, used=100, free=400, percent=20.0)],
            services={"httpd": "active"},
            duration_s=0.02,
        )
        text = ""
        for _ in range(3):
            text = generate_latest(registry).decode()
        assert statements == []
        assert 'node_filesystem_avail_bytes{mountpoint="/data"} 400.0' in text
        assert 'node_systemd_unit_state{name="apache2",service="httpd",state="active"} 1.0' in text
        assert "checkd_cpu_percent 12.5" in text
        assert "checkd_sampler_running 0.0" in text
    finally:
        monitor.engine.dispose()


def test_process_table_faults_are_probe_faults_in_metrics_and_the_sampler_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/api/v2/processes failing to read the process table counts in checkd_check_errors_total and
    shows in the sampler's status (issue 14: it was counted nowhere a person looks)."""
    import psutil

    from checkd.api.respond import sampler_out
    from checkd.api.routes.metrics import build_registry
    from checkd.config import Settings
    from checkd.monitor import Monitor
    from checkd.probes.processes import ProcessesUnreadable

    monitor = Monitor(Settings(data_dir=tmp_path))
    try:
        registry = build_registry(monitor)
        monkeypatch.setattr(psutil, "PROCFS_PATH", str(tmp_path / "no-proc"))  # psutil's documented knob
        for _ in range(3):
            with pytest.raises(ProcessesUnreadable):
                monitor.processes.top("cpu", 5)
        text = generate_latest(registry).decode()
        assert "checkd_check_errors_total 3.0" in text
        status = sampler_out(monitor)
        assert status.errors_total == 3
        assert status.last_error is not None and "no-proc" in status.last_error
        assert [(f.probe, f.checks) for f in status.probe_failures] == [("processes", 3)]
        monkeypatch.undo()
        assert monitor.processes.top("cpu", 5)  # /proc again: it reads, the run of failures ends
        assert sampler_out(monitor).probe_failures == []
        assert "checkd_check_errors_total 3.0" in generate_latest(registry).decode()  # a counter
    finally:
        monitor.engine.dispose()


def test_metrics_before_the_first_check_still_answer(tmp_path: Path) -> None:
    """No check yet: the host families are absent, the sampler's are there (no error)."""
    from checkd.api.routes.metrics import build_registry
    from checkd.config import Settings
    from checkd.monitor import Monitor

    monitor = Monitor(Settings(data_dir=tmp_path))
    try:
        text = generate_latest(build_registry(monitor)).decode()
        assert "node_memory_MemTotal_bytes" not in text
        assert "checkd_sampler_running 0.0" in text
        assert "checkd_checks_total 0.0" in text
        assert "checkd_last_check_timestamp_seconds" not in text
    finally:
        monitor.engine.dispose()


def test_checks_total_and_the_duration_count_agree_from_the_first_check(
    make_server: Callable[..., CheckdProcess],
) -> None:
    """The check taken as the server opens its database is in the histogram too (issue 10 item 9:
    it was 5 vs 4, the listener being attached after that check). A 1-hour interval: the second
    check comes from a stop and start through the API, so no check lands between two reads."""
    server = make_server(interval=3600)
    server.wait_for(lambda: one(scrape(server)[0], "checkd_checks_total") >= 1)
    for action in ("stop", "start"):
        assert server.post(f"/api/v2/sampler/{action}", headers=server.auth()).status_code == 200
    server.wait_for(lambda: one(scrape(server)[0], "checkd_checks_total") >= 2)
    samples, _ = scrape(server)
    assert one(samples, "checkd_check_duration_seconds_count") == one(samples, "checkd_checks_total") == 2


def test_metrics_show_the_write_queue_and_the_upkeep(server: CheckdProcess) -> None:
    """The write-behind queue's depth and longest write wait, and the upkeep thread's counters."""
    server.wait_for(lambda: server.get("/api/v2/upkeep").json()["last_fold_at"] is not None)
    upkeep = server.get("/api/v2/upkeep").json()
    samples, types = scrape(server)
    assert one(samples, "checkd_pending_writes_max") >= 1
    assert 0 < one(samples, "checkd_write_wait_longest_seconds") < 5
    assert one(samples, "checkd_upkeep_running") == 1
    assert {lab["health"]: v for lab, v in samples["checkd_upkeep_health"]} == {
        "ok": 1.0,
        "failing": 0.0,
        "behind": 0.0,
    }
    assert one(samples, "checkd_upkeep_errors_total") == 0
    assert one(samples, "checkd_upkeep_folded_total") == upkeep["folded_total"]  # one fold, at open
    assert types["checkd_upkeep_folded"] == "counter"
    assert one(samples, "checkd_upkeep_fold_lag_seconds") >= 0
    assert one(samples, "checkd_upkeep_last_fold_timestamp_seconds") > time.time() - 60
