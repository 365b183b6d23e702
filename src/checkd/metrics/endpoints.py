"""EndpointCollector: blackbox_exporter-named gauges of each endpoint check's latest result."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from checkd.endpoints import RunnerStatus
from checkd.probes.readings import EndpointResult


class EndpointCollector:
    """probe_success, probe_duration_seconds, probe_http_status_code and probe_ssl_earliest_cert_expiry
    labelled `probe` (the check's name), read from the runner's snapshot at each scrape; and the
    runner's own counters (runs, skipped slots, runs that raised)."""

    def __init__(
        self, latest: Callable[[], Sequence[EndpointResult]], status: Callable[[], RunnerStatus]
    ) -> None:
        self._latest = latest
        self._status = status

    def collect(self) -> Iterator[Metric]:
        """One sample per check that has run (status code and expiry only where known)."""
        results = self._latest()
        if not results:
            return
        st = self._status()
        for name, value, doc in (
            ("checkd_endpoint_runs", st.runs_total, "Endpoint check runs."),
            (
                "checkd_endpoint_skipped",
                st.skipped_total,
                "Endpoint check slots skipped: the last run had not ended.",
            ),
            (
                "checkd_endpoint_errors",
                st.errors_total,
                "Endpoint check runs that raised (reported as down).",
            ),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        success = _family("probe_success", "Whether the endpoint check succeeded (1) or not (0).")
        duration = _family("probe_duration_seconds", "How long the endpoint check took, in seconds.")
        status = _family("probe_http_status_code", "The HTTP status code of the response.")
        expiry = _family(
            "probe_ssl_earliest_cert_expiry", "The expiry of the server's TLS certificate, in Unix seconds."
        )
        for r in results:
            success.add_metric([r.name], 1.0 if r.up else 0.0)
            if r.latency_ms is not None:
                duration.add_metric([r.name], r.latency_ms / 1000)
            if r.status_code is not None:
                status.add_metric([r.name], r.status_code)
            if r.cert_expires_at is not None:
                expiry.add_metric([r.name], r.cert_expires_at)
        yield from (success, duration, status, expiry)


def _family(name: str, documentation: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=["probe"])
