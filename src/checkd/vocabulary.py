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
# A network interface or block device name in `[sampler] net_interfaces` / `disk_devices`, or "*".
DEVICE_NAME_RE = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9.\-_:@]{0,63})$")


def service_name_ok(name: str) -> bool:
    """True when `name` is a valid service name: letters, digits and `.-_@`, at most 100 chars."""
    return bool(SERVICE_NAME_RE.match(name))


Action = Literal["start", "stop", "restart"]
ACTIONS: tuple[Action, ...] = get_args(Action)

# History metrics: each is a series in /api/v2/history/{metric}. A metric of many series takes
# the query parameter METRIC_QUALIFIER names (stored as rollup metrics named "disk_percent:/",
# "availability:httpd", "net_rx_bytes:eth0", "probe_up:site").
HistoryMetric = Literal[
    "cpu_percent",
    "mem_percent",
    "disk_percent",
    "load1",
    "availability",
    "swap_percent",
    "load1_per_core",
    "procs_total",
    "inodes_percent",
    "net_rx_bytes",
    "net_tx_bytes",
    "disk_read_bytes",
    "disk_write_bytes",
    "disk_busy_percent",
    "probe_up",
    "probe_latency_ms",
]
HISTORY_METRICS: tuple[HistoryMetric, ...] = get_args(HistoryMetric)
# The metrics a threshold alert rule may watch (the evaluator reads these from each check).
ALERT_METRICS: tuple[HistoryMetric, ...] = (
    "cpu_percent",
    "mem_percent",
    "disk_percent",
    "load1",
    "availability",
)
Qualifier = Literal["path", "service", "device", "probe"]
METRIC_QUALIFIER: dict[str, Qualifier] = {
    "disk_percent": "path",
    "inodes_percent": "path",
    "availability": "service",
    "net_rx_bytes": "device",
    "net_tx_bytes": "device",
    "disk_read_bytes": "device",
    "disk_write_bytes": "device",
    "disk_busy_percent": "device",
    "probe_up": "probe",
    "probe_latency_ms": "probe",
}
# The series a qualified metric shows when its parameter is not given (None: it must be given).
QUALIFIER_DEFAULT: dict[Qualifier, str | None] = {
    "path": "/",
    "service": "httpd",
    "device": None,
    "probe": None,
}

# Alert states (DESIGN "Alerts"): pending until `for` is over, then firing; gave-up when
# remediation is exhausted; resolved when the condition cleared.
ALERT_STATES = ("pending", "firing", "gave-up", "resolved")
ACTIVE_ALERT_STATES = ("pending", "firing", "gave-up")
SEVERITIES = ("warning", "critical")

# Alert rule kinds (docs/ALERTS.md); a probe rule fires while its endpoint check is down.
AlertRuleKind = Literal["threshold", "fill", "service", "stale", "probe"]
PROBE_RULE: AlertRuleKind = "probe"
