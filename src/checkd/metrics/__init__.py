"""Prometheus collectors that read checkd's in-memory state (no database query per scrape)."""

from checkd.metrics.actions import ActionCounter
from checkd.metrics.durations import CheckDurations
from checkd.metrics.host import SERVICE_STATES, HostCollector
from checkd.metrics.sampler import SamplerCollector
from checkd.metrics.upkeep import UpkeepCollector

__all__ = [
    "SERVICE_STATES",
    "ActionCounter",
    "CheckDurations",
    "HostCollector",
    "SamplerCollector",
    "UpkeepCollector",
]
