"""UpkeepCollector: the upkeep thread's counters, health and fold lag, read from its in-memory status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import get_args

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from checkd.upkeep import UpkeepHealth, UpkeepStatus


class UpkeepCollector:
    """checkd_upkeep_* families: rows folded and deleted, errors, health, last fold and its lag."""

    def __init__(self, status: Callable[[], UpkeepStatus]) -> None:
        self._status = status

    def collect(self) -> Iterator[Metric]:
        """The families for the upkeep's status now."""
        st = self._status()
        yield GaugeMetricFamily(
            "checkd_upkeep_running",
            "1 while the upkeep thread runs, else 0.",
            value=1.0 if st.running else 0.0,
        )
        health = GaugeMetricFamily(
            "checkd_upkeep_health", "1 for the upkeep's health now, 0 for the others.", labels=["health"]
        )
        for name in get_args(UpkeepHealth):
            health.add_metric([name], 1.0 if st.health == name else 0.0)
        yield health
        yield CounterMetricFamily(
            "checkd_upkeep_folded", "Raw checks folded into rollups by this process.", value=st.folded_total
        )
        yield CounterMetricFamily(
            "checkd_upkeep_deleted",
            "Rows deleted past their retention by this process.",
            value=st.deleted_total,
        )
        yield CounterMetricFamily(
            "checkd_upkeep_errors", "Upkeep rounds (fold or prune) that failed.", value=st.errors_total
        )
        if st.last_fold_at is not None:
            yield GaugeMetricFamily(
                "checkd_upkeep_last_fold_timestamp_seconds",
                "Unix time at which the last complete fold ended.",
                value=st.last_fold_at,
            )
        if st.fold_lag_s is not None:
            yield GaugeMetricFamily(
                "checkd_upkeep_fold_lag_seconds", "Seconds since the last complete fold.", value=st.fold_lag_s
            )
