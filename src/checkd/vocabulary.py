"""The words checkd defines once: service states, service actions and history metric names.

Every layer imports them from here (control, store, metrics, schemas, the legacy importer and
the API), so a state or a metric is never spelled in two places."""

from __future__ import annotations

import enum
import re
from typing import Literal, get_args


class ServiceState(enum.StrEnum):
    """The state of a service, in DESIGN.md's vocabulary (a str: `str(state)` is its value)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    FAILED = "failed"
    ACTIVATING = "activating"
    DEACTIVATING = "deactivating"
    UNKNOWN = "unknown"  # could not tell
    NOT_FOUND = "not-found"  # no such unit


SERVICE_STATES: tuple[str, ...] = tuple(state.value for state in ServiceState)

SERVICE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_@]{0,99}$")


def service_name_ok(name: str) -> bool:
    """True when `name` is a valid service name: letters, digits and `.-_@`, at most 100 chars."""
    return bool(SERVICE_NAME_RE.match(name))


Action = Literal["start", "stop", "restart"]
ACTIONS: tuple[Action, ...] = get_args(Action)

# History metrics: each is a series in /api/v2/history/{metric}; disk_percent takes a `path`,
# availability a `service` (stored as rollup metrics named "disk_percent:/", "availability:httpd").
HistoryMetric = Literal["cpu_percent", "mem_percent", "disk_percent", "load1", "availability"]
HISTORY_METRICS: tuple[HistoryMetric, ...] = get_args(HistoryMetric)

# Alert states (DESIGN "Alerts"): pending until `for` is over, then firing; gave-up when
# remediation is exhausted; resolved when the condition cleared.
ALERT_STATES = ("pending", "firing", "gave-up", "resolved")
ACTIVE_ALERT_STATES = ("pending", "firing", "gave-up")
SEVERITIES = ("warning", "critical")

# Alert rule kinds (docs/ALERTS.md); a probe rule fires while its endpoint check is down.
AlertRuleKind = Literal["threshold", "fill", "service", "stale", "probe"]
PROBE_RULE: AlertRuleKind = "probe"
