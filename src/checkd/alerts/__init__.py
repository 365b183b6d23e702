"""Alert rules, their evaluation on each stored check, alert states in SQL and remediation."""

from checkd.alerts.engine import AlertEngine, RuleStatus
from checkd.alerts.rules import Rule, compile_rules

__all__ = ["AlertEngine", "Rule", "RuleStatus", "compile_rules"]
