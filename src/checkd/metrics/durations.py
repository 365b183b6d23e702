"""CheckDurations: a histogram of how long taking each check took, fed by the sampler's listener."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from checkd.probes import Check

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class CheckDurations:
    """checkd_check_duration_seconds; call `observe` with each check (Sampler.on_check)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._histogram = Histogram(
            "checkd_check_duration_seconds",
            "Seconds taken to read every probe of one check.",
            buckets=BUCKETS,
            registry=registry,
        )

    def observe(self, check: Check) -> None:
        """Record `check.duration_s` (checks without a duration are skipped)."""
        if check.duration_s is not None:
            self._histogram.observe(check.duration_s)
