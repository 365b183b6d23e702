"""Endpoint checks in a real `checkd serve`: /api/v2/probes, blackbox_exporter's names in /metrics,
and a `probe = ...` alert rule firing while its check is down and resolving once it is up."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from checkd_process import CheckdProcess, free_port
from tls_site import Site, ca_signed


def test_probes_route_metrics_and_a_probe_alert(
    tmp_path: Path, make_server: Callable[..., CheckdProcess]
) -> None:
    ca, leaf = ca_signed(tmp_path, days=30)
    closed = free_port()
    with Site(tls=leaf) as site:
        config = tmp_path / "checkd.toml"
        config.write_text(f"""
[[probes.http]]
name = "site"
url = "{site.url("/")}"
ca_file = "{ca.cert}"
contains = "checkd test site"
timeout = "1s"
interval = "1s"

[[probes.http]]
name = "broken"
url = "{site.url("/fail")}"
ca_file = "{ca.cert}"
timeout = "1s"
interval = "1s"

[[probes.tcp]]
name = "db"
host = "127.0.0.1"
port = {closed}
timeout = "1s"
interval = "1s"

[[alerts.rules]]
name = "db-down"
probe = "db"
severity = "critical"
""")
        server = make_server(args=("--config", str(config)))

        def all_ran() -> list[dict[str, object]] | None:
            body: list[dict[str, object]] = server.get("/api/v2/probes").json()
            return body if all(p["checked_at"] for p in body) else None

        site_p, broken, db = server.wait_for(all_ran)
        assert set(site_p) == {
            "name", "kind", "target", "up", "latency_ms", "status_code", "cert_days_left", "error",
            "checked_at", "interval_s",
        }  # fmt: skip
        assert (site_p["name"], site_p["kind"], site_p["up"], site_p["status_code"]) == (
            "site",
            "http",
            True,
            200,
        )
        assert isinstance(site_p["cert_days_left"], float) and 29 < site_p["cert_days_left"] <= 30
        assert site_p["target"] == site.url("/") and site_p["error"] is None
        assert (broken["up"], broken["status_code"], broken["error"]) == (
            False,
            500,
            "status 500, expected 200",
        )
        assert broken["cert_days_left"] == site_p["cert_days_left"]  # an error page over TLS has one too
        assert (db["kind"], db["target"], db["up"]) == ("tcp", f"127.0.0.1:{closed}", False)
        assert db["error"] == "connection refused" and db["latency_ms"] is None

        metrics = server.get("/metrics").text
        assert 'probe_success{probe="site"} 1.0' in metrics
        assert 'probe_success{probe="broken"} 0.0' in metrics
        assert 'probe_success{probe="db"} 0.0' in metrics
        assert 'probe_http_status_code{probe="broken"} 500.0' in metrics
        assert 'probe_ssl_earliest_cert_expiry{probe="site"}' in metrics
        assert 'probe_ssl_earliest_cert_expiry{probe="db"}' not in metrics  # tcp: no certificate
        assert 'probe_duration_seconds{probe="site"}' in metrics
        assert "checkd_endpoint_errors_total 0.0" in metrics and "checkd_endpoint_runs_total " in metrics

        def db_alert(state: str) -> dict[str, object] | None:
            items = server.get("/api/v2/alerts", params={"state": state}).json()["items"]
            return next((a for a in items if a["rule"] == "db-down"), None)

        firing = server.wait_for(lambda: db_alert("firing"))
        assert firing["labels"]["probe"] == "db"  # type: ignore[index]
        assert firing["summary"] == "probe db is down: connection refused"
        rules = server.get("/api/v2/alerts/rules").json()
        assert [(r["name"], r["kind"], r["state"]) for r in rules] == [("db-down", "probe", "firing")]

        with socket.socket() as listener:  # the port answers now: the probe is up, the alert resolves
            listener.bind(("127.0.0.1", closed))
            listener.listen(64)
            server.wait_for(lambda: db_alert("resolved"))
            assert server.get("/metrics").text.count('probe_success{probe="db"} 1.0') == 1


def test_no_endpoint_checks_is_an_empty_list(server: CheckdProcess) -> None:
    assert server.get("/api/v2/probes").json() == []
    assert "probe_success" not in server.get("/metrics").text
