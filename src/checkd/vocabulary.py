"""Words checkd defines once: history metric names and alert states."""

from __future__ import annotations

# Metrics the history route and alert rules accept; disk_percent takes a path, availability a service.
HISTORY_METRICS = ("cpu_percent", "mem_percent", "disk_percent", "load1", "availability")

# Alert states (DESIGN "Alerts"): pending until `for` is over, then firing; gave-up when
# remediation is exhausted; resolved when the condition cleared.
ALERT_STATES = ("pending", "firing", "gave-up", "resolved")
ACTIVE_ALERT_STATES = ("pending", "firing", "gave-up")
SEVERITIES = ("warning", "critical")
