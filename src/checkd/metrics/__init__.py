"""Prometheus collectors that read checkd's in-memory state (no database query per scrape)."""

from checkd.metrics.actions import ActionCounter
from checkd.metrics.alerts import AlertsCollector
from checkd.metrics.durations import CheckDurations
from checkd.metrics.endpoints import EndpointCollector
from checkd.metrics.host import HostCollector
from checkd.metrics.node_devices import NodeDevicesCollector
from checkd.metrics.notifications import NotificationCounter
from checkd.metrics.sampler import SamplerCollector
from checkd.metrics.upkeep import UpkeepCollector

__all__ = [
    "ActionCounter",
    "AlertsCollector",
    "CheckDurations",
    "EndpointCollector",
    "HostCollector",
    "NodeDevicesCollector",
    "NotificationCounter",
    "SamplerCollector",
    "UpkeepCollector",
]
