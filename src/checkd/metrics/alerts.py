"""AlertsCollector: checkd_alerts{alertname,severity,state}, 1 per active alert (like Prometheus' ALERTS)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric

from checkd.store.alerts import AlertRow


class AlertsCollector:
    """Reads the alert engine's active alerts from memory at each scrape."""

    def __init__(self, active: Callable[[], Sequence[AlertRow]]) -> None:
        self._active = active

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
