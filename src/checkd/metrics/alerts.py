"""AlertsCollector: checkd_alerts{alertname,severity,state} (like Prometheus' ALERTS) and alerting faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from checkd.store.alerts import AlertRow

FaultCounts = Callable[[], dict[str, int]]  # what failed -> how often


class AlertsCollector:
    """Reads the alert engine's active alerts and the alerting faults from memory at each scrape."""

    def __init__(self, active: Callable[[], Sequence[AlertRow]], faults: FaultCounts) -> None:
        self._active = active
        self._faults = faults

    def collect(self) -> Iterator[Metric]:
        """One sample per pending, firing or given-up alert."""
        family = GaugeMetricFamily(
            "checkd_alerts",
            "Active alerts: 1 per alert, labelled with its rule, severity and state.",
            labels=["alertname", "severity", "state"],
        )
        for alert in self._active():
            family.add_metric([alert.rule, alert.severity, alert.state], 1.0)
        yield family
        faults = CounterMetricFamily(
            "checkd_alerting_errors",
            "Faults of alerting: evaluation or outbox database errors, checks dropped unevaluated.",
            labels=["kind"],
        )
        for kind, count in self._faults().items():
            faults.add_metric([kind], count)
        yield faults
