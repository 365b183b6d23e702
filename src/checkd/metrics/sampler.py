"""SamplerCollector: the sampler's running flag and counters, read from its in-memory status."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from checkd.sampler import SamplerStatus


class SamplerCollector:
    """checkd_sampler_running, checkd_checks_total, checkd_check_errors_total and friends."""

    def __init__(self, status: Callable[[], SamplerStatus]) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        """The families for the sampler's status now."""
        st = self._status()
        yield GaugeMetricFamily(
            "checkd_sampler_running", "1 while the sampler runs, else 0.", value=1.0 if st.running else 0.0
        )
        yield GaugeMetricFamily(
            "checkd_sampler_interval_seconds", "Seconds between checks.", value=st.interval_s
        )
        yield CounterMetricFamily("checkd_checks", "Checks taken by this process.", value=st.checks_total)
        yield CounterMetricFamily(
            "checkd_check_errors",
            "Probe failures, failed database writes and dropped checks.",
            value=st.errors_total,
        )
        yield GaugeMetricFamily(
            "checkd_pending_writes", "Checks waiting in memory for the database.", value=st.pending_writes
        )
        yield GaugeMetricFamily(
            "checkd_pending_writes_max",
            "Most checks waiting in memory at once since start.",
            value=st.pending_writes_max,
        )
        yield GaugeMetricFamily(
            "checkd_write_wait_longest_seconds",
            "Longest time one write of queued checks took since start, lock waits included.",
            value=st.longest_write_wait_s,
        )
        if st.last_check_at is not None:
            yield GaugeMetricFamily(
                "checkd_last_check_timestamp_seconds",
                "Unix time of the newest check taken by this process.",
                value=st.last_check_at,
            )
