"""Prometheus collectors that read checkd's in-memory state (no database query per scrape)."""

from checkd.metrics.actions import ActionCounter
from checkd.metrics.alerts import AlertsCollector
from checkd.metrics.durations import CheckDurations
from checkd.metrics.host import SERVICE_STATES, HostCollector
from checkd.metrics.notifications import NotificationCounter
from checkd.metrics.sampler import SamplerCollector

__all__ = [
    "SERVICE_STATES",
    "ActionCounter",
    "AlertsCollector",
    "CheckDurations",
    "HostCollector",
    "NotificationCounter",
    "SamplerCollector",
]
