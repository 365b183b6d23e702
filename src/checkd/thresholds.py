"""The warn/bad levels the dashboard marks values by: the alert rules' thresholds, else defaults."""

from __future__ import annotations

from typing import TypedDict

from checkd.config import Settings

# Documented in README ("Dashboard"): used for a metric no `above` alert rule watches.
DEFAULT_LEVELS: dict[str, tuple[float, float]] = {
    "cpu_percent": (75.0, 90.0),
    "mem_percent": (75.0, 90.0),
    "disk_percent": (80.0, 90.0),
}


class Level(TypedDict):
    """A metric's warning and critical level and where they come from ("default" or "rule <name>")."""

    warn: float
    bad: float
    source: str


def dashboard_levels(settings: Settings) -> dict[str, Level]:
    """Levels by metric (`disk_percent:<path>` for a rule on one path); a warning rule sets `warn`,
    a critical one `bad`."""
    levels: dict[str, Level] = {
        metric: Level(warn=warn, bad=bad, source="default") for metric, (warn, bad) in DEFAULT_LEVELS.items()
    }
    for rule in settings.alerts.rules:
        if rule.kind != "threshold" or rule.above is None or rule.metric not in DEFAULT_LEVELS:
            continue
        key = f"{rule.metric}:{rule.path}" if rule.metric == "disk_percent" and rule.path else rule.metric
        base = levels.get(key, levels[rule.metric])
        level = Level(warn=base["warn"], bad=base["bad"], source=f"rule {rule.name}")
        if rule.severity == "critical":
            level["bad"] = rule.above
            level["warn"] = min(level["warn"], rule.above)
        else:
            level["warn"] = rule.above
            level["bad"] = max(level["bad"], rule.above)
        levels[key] = level
    return levels
