"""Endpoint checks ([[probes.http]], [[probes.tcp]]): probes and the runner that schedules them."""

from checkd.endpoints.build import build_checks
from checkd.endpoints.runner import EndpointCheck, EndpointRunner, RunnerStatus

__all__ = ["EndpointCheck", "EndpointRunner", "RunnerStatus", "build_checks"]
