"""The dashboard's levels: documented defaults, overridden by `above` alert rules of the config."""

from __future__ import annotations

from pathlib import Path

from checkd.config import load_settings
from checkd.thresholds import DEFAULT_LEVELS, dashboard_levels

RULES = """
[[alerts.rules]]
name = "cpu-warm"
metric = "cpu_percent"
above = 60

[[alerts.rules]]
name = "cpu-hot"
metric = "cpu_percent"
above = 95
severity = "critical"

[[alerts.rules]]
name = "data-full"
metric = "disk_percent"
path = "/"
above = 70
severity = "critical"

[[alerts.rules]]
name = "mem-low"
metric = "mem_percent"
below = 5
"""


def test_defaults_without_rules(tmp_path: Path) -> None:
    levels = dashboard_levels(load_settings(None, data_dir=tmp_path))
    assert {k: (v["warn"], v["bad"]) for k, v in levels.items()} == DEFAULT_LEVELS
    assert {v["source"] for v in levels.values()} == {"default"}


def test_above_rules_set_the_levels_by_severity_and_path(tmp_path: Path) -> None:
    config = tmp_path / "checkd.toml"
    config.write_text(RULES)
    levels = dashboard_levels(load_settings(config, data_dir=tmp_path))
    assert (levels["cpu_percent"]["warn"], levels["cpu_percent"]["bad"]) == (60, 95)
    assert levels["cpu_percent"]["source"] == "rule cpu-hot"
    assert (levels["disk_percent:/"]["warn"], levels["disk_percent:/"]["bad"]) == (70, 70)
    assert levels["disk_percent"] == {"warn": 80, "bad": 90, "source": "default"}  # other paths
    assert levels["mem_percent"]["source"] == "default"  # a `below` rule is no upper level
