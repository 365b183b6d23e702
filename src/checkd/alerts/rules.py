"""Rules compiled from the config: what each one reads from a check and when it holds or clears."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from checkd.config_alerts import AlertRuleSettings
from checkd.probes import Check
from checkd.vocabulary import PROBE_RULE


@dataclass(frozen=True)
class Rule:
    """One alert rule; `kind` is threshold, fill, service, stale or probe."""

    name: str
    kind: str
    severity: str
    for_s: int
    summary: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # service / path where the rule has one
    metric: str | None = None
    qualifier: str | None = None  # disk path or service of the metric
    above: float | None = None
    below: float | None = None
    clear: float | None = None
    fills_within_s: int = 0
    window_s: int = 0
    service: str | None = None
    restart: bool = False
    max_restarts: int = 0
    restart_window_s: int = 0
    stale_s: int = 0
    probe: str | None = None  # the endpoint check a probe rule watches

    def value(self, check: Check) -> float | None:
        """The rule's metric in `check`; None when the check does not have it (its probe failed)."""
        metric = self.metric
        if metric == "cpu_percent":
            return check.cpu
        if metric == "mem_percent":
            return None if check.memory is None else check.memory.percent
        if metric == "load1":
            return None if check.load is None else check.load.load1
        if metric == "disk_percent":
            return next((d.percent for d in check.disks if d.path == self.qualifier), None)
        if metric == "availability":
            state = check.services.get(self.qualifier or "httpd")
            return None if state is None else (100.0 if state == "active" else 0.0)
        return None

    def breached(self, value: float) -> bool:
        """True when `value` is past the threshold (strictly above `above` / below `below`)."""
        return value > self.above if self.above is not None else value < (self.below or 0.0)

    def cleared(self, value: float) -> bool:
        """True when a firing alert resolves: at or past `clear` (default: the threshold itself)."""
        if self.above is not None:
            return value <= (self.above if self.clear is None else self.clear)
        return value >= ((self.below or 0.0) if self.clear is None else self.clear)

    def describe(self, value: float | None) -> str:
        """A one-line summary of what the rule sees now."""
        if self.summary:
            return self.summary
        if self.kind == "threshold":
            what = self.metric if self.qualifier is None else f"{self.metric} {self.qualifier}"
            sign, limit = (">", self.above) if self.above is not None else ("<", self.below)
            return f"{what} is {_num(value)} ({sign} {limit:g})"
        if self.kind == "fill":
            hours = "?" if value is None else f"{value / 3600:.1f} h"
            return f"disk {self.qualifier} fills within {self.fills_within_s / 3600:g} h (full in {hours})"
        if self.kind == "stale":
            return f"no check stored for {_num(value)} s (limit {self.stale_s} s)"
        if self.kind == PROBE_RULE:
            return f"probe {self.probe} is down"
        return f"service {self.service} is not active"


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"


def compile_rules(settings: Sequence[AlertRuleSettings]) -> list[Rule]:
    """Rules from their (already validated) settings, in config order."""
    rules = []
    for s in settings:
        labels: dict[str, str] = {}
        qualifier = s.path if s.metric == "disk_percent" or s.kind == "fill" else None
        if s.metric == "availability":
            qualifier = s.service or "httpd"
        if s.kind == "service":
            labels["service"] = s.service or ""
        elif s.kind == PROBE_RULE:
            labels["probe"] = s.probe or ""
        elif qualifier is not None:
            labels["service" if s.metric == "availability" else "path"] = qualifier
        rules.append(
            Rule(
                name=s.name,
                kind=s.kind,
                severity=s.severity,
                for_s=s.seconds("for_"),
                summary=s.summary,
                labels=labels,
                metric="disk_percent" if s.kind == "fill" else s.metric,
                qualifier=qualifier,
                above=s.above,
                below=s.below,
                clear=s.clear,
                fills_within_s=s.seconds("fills_within"),
                window_s=s.seconds("window"),
                service=s.service if s.kind == "service" else None,
                restart=s.restart,
                max_restarts=s.max_restarts,
                restart_window_s=s.seconds("restart_window"),
                stale_s=s.seconds("stale"),
                probe=s.probe if s.kind == PROBE_RULE else None,
            )
        )
    return rules
