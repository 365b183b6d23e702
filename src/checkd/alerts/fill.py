"""Disk-fill prediction: seconds until a disk reaches 100 %, refitted at most once a minute."""

from __future__ import annotations

from sqlalchemy import Engine

from checkd.alerts.rules import Rule
from checkd.store.history import metric_key
from checkd.store.trend import linear_trend

REFIT_S = 60.0  # the rollups it reads change once per fold (every 60 s), so fitting more often adds nothing


class FillPredictor:
    """Caches each fill rule's fit, so most checks cost a dictionary lookup, not a query."""

    def __init__(self, engine: Engine, host: str) -> None:
        self.engine = engine
        self.host = host
        self._cache: dict[str, tuple[float, float | None]] = {}  # rule -> (fitted at, seconds to full)

    def seconds_to_full(self, rule: Rule, now: float) -> float | None:
        """Predicted seconds until `rule`'s disk is full at the fitted rate; None if not filling."""
        cached = self._cache.get(rule.name)
        if cached is not None and now - cached[0] < REFIT_S:
            return cached[1]
        with self.engine.connect() as conn:
            trend = linear_trend(
                conn=conn,
                host=self.host,
                metric_key=metric_key("disk_percent", rule.qualifier),
                since=int(now) - rule.window_s,
                until=int(now),
            )
        left = None
        if trend is not None and trend.slope > 0:
            left = max(0.0, (100.0 - trend.level) / trend.slope)
        self._cache[rule.name] = (now, left)
        return left
