"""/metrics: Prometheus text exposition of checkd's in-memory state (no database query per scrape)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from checkd.metrics import (
    ActionCounter,
    AlertsCollector,
    CheckDurations,
    EndpointCollector,
    HostCollector,
    NodeDevicesCollector,
    NotificationCounter,
    SamplerCollector,
    UpkeepCollector,
)
from checkd.monitor import Monitor


def build_registry(monitor: Monitor) -> CollectorRegistry:
    """A registry of checkd's collectors, with the duration and action listeners hooked into `monitor`."""
    registry = CollectorRegistry()
    infos = monitor.registry.infos()
    units = {i.name: i.unit or i.name for i in infos}  # a command-backed service has no unit: its name
    registry.register(HostCollector(lambda: monitor.sampler.latest, units))
    registry.register(NodeDevicesCollector(lambda: monitor.sampler.latest))
    registry.register(SamplerCollector(monitor.sampler.status))
    registry.register(UpkeepCollector(monitor.upkeep.status))
    registry.register(EndpointCollector(monitor.endpoints.latest, monitor.endpoints.status))
    durations = CheckDurations(registry)
    monitor.sampler.on_check(durations.observe)
    actions = ActionCounter(registry, [i.name for i in infos if i.control])
    monitor.action_listeners.append(actions.record)

    def faults() -> dict[str, int]:
        return {
            "evaluation": monitor.alerts.errors_total,
            "dropped_checks": monitor.alerts.dropped_total,
            "outbox": monitor.delivery.errors_total,
            "fleet": monitor.fleet_alerts.errors_total,  # claiming and reading fleet hosts' checks
        }

    registry.register(AlertsCollector(monitor.alerts.active, faults))
    notifications = NotificationCounter(registry, [t.name for t in monitor.settings.notify.targets])
    monitor.delivery.listeners.append(notifications.record)
    return registry


def router_for(monitor: Monitor) -> APIRouter:
    """The /metrics router serving a registry built for `monitor`."""
    registry = build_registry(monitor)
    router = APIRouter(tags=["metrics"])

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {}}}},
    )
    def metrics() -> Response:
        """node_exporter-named host gauges and checkd's own counters, from memory."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
