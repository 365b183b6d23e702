"""The `[alerts]` and `[notify]` sections of the settings (loaded by checkd.config)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from checkd.vocabulary import ALERT_METRICS, PROBE_RULE

if TYPE_CHECKING:
    from checkd.config import Settings


def _seconds(value: str | int) -> int:
    from checkd.config import parse_duration  # config imports this module; parse at call time

    return parse_duration(value)


def _checked_name(cls: type, name: str) -> str:
    """A rule's or target's name: letters, digits, - and _, at most 64."""
    if not RULE_NAME_RE.match(name):
        raise ValueError("letters, digits, - and _ only, 1 to 64 characters")
    return name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


RULE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
NOTIFY_TYPES = ("webhook", "alertmanager", "apprise", "command")


def _duration_field(value: str | int) -> str | int:
    _seconds(value)  # raises ValueError naming what it accepts
    return value


class AlertRuleSettings(_Section):
    """`[[alerts.rules]]`: one rule; its kind follows from which keys it sets (see docs/ALERTS.md)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    severity: Literal["warning", "critical"] = "warning"
    summary: str | None = Field(None, max_length=500)
    for_: str | int = Field("0s", alias="for")
    # threshold
    metric: str | None = None
    path: str | None = None
    above: float | None = None
    below: float | None = None
    clear: float | None = None
    # disk-fill prediction
    fills_within: str | int | None = None
    window: str | int = "6h"
    # service
    service: str | None = None
    restart: bool = False
    max_restarts: int = Field(3, ge=1, le=1000)
    restart_window: str | int = "10m"
    # staleness
    stale: str | int | None = None
    # an endpoint check ([[probes.http]] / [[probes.tcp]]) that is down
    probe: str | None = None

    _name = field_validator("name")(_checked_name)

    @field_validator("for_", "window", "restart_window", "fills_within", "stale")
    @classmethod
    def _durations(cls, value: str | int | None) -> str | int | None:
        return None if value is None else _duration_field(value)

    @property
    def kind(self) -> str:
        """threshold, fill, service, stale or probe."""
        if self.service is not None and self.metric is None:
            return "service"
        if self.probe is not None:
            return PROBE_RULE
        if self.stale is not None:
            return "stale"
        if self.fills_within is not None:
            return "fill"
        return "threshold"

    def seconds(self, key: Literal["for_", "window", "restart_window", "fills_within", "stale"]) -> int:
        """The duration `key` in seconds (0 when unset)."""
        value = getattr(self, key)
        return 0 if value is None else _seconds(value)

    def problem(self, settings: Settings) -> tuple[str, str] | None:
        """(key, why) of the first mistake given the other sections, or None."""
        watched = self.service if self.metric is None else None  # availability rules name one too
        keys = {
            "service": watched,
            "stale": self.stale,
            "fills_within": self.fills_within,
            "probe": self.probe,
        }
        kinds = [k for k, v in {**keys, "metric": self.metric}.items() if v is not None]
        if self.fills_within is not None and self.metric is not None:
            kinds.remove("metric")  # a fill rule names its metric (disk_percent)
        if len(kinds) != 1:
            got = f" (got {', '.join(kinds)})" if kinds else ""
            return ("metric", f"set exactly one of metric, fills_within, service, stale or probe{got}")
        if self.restart and self.kind != "service":
            return ("restart", "only a service rule (service = ..., no metric) restarts")
        if self.kind == "threshold":
            return self._threshold_problem(settings)
        if self.kind == "fill":
            if self.metric not in (None, "disk_percent"):
                return ("metric", "a fills_within rule watches disk_percent")
            return self._path_problem(settings)
        if self.kind == PROBE_RULE and self.probe not in settings.probes.names():
            return (
                "probe",
                f"{self.probe!r} is not a configured endpoint check (see [[probes.http]], [[probes.tcp]])",
            )
        if self.kind == "service":
            service = settings.services.get(self.service or "")
            if service is None:
                return ("service", f"{self.service!r} is not a configured service (see [services])")
            if self.restart and not service.control:
                return ("restart", f"service {self.service!r} has control = false")
        return None

    def _threshold_problem(self, settings: Settings) -> tuple[str, str] | None:
        if self.metric not in ALERT_METRICS:
            return ("metric", f"unknown metric {self.metric!r}; accepts {', '.join(ALERT_METRICS)}")
        if (self.above is None) == (self.below is None):
            return ("above", "set exactly one of above or below")
        if self.clear is not None:
            if self.above is not None and self.clear > self.above:
                return ("clear", f"must not be more than above ({self.above:g})")
            if self.below is not None and self.clear < self.below:
                return ("clear", f"must not be less than below ({self.below:g})")
        if self.metric == "availability" and (self.service or "httpd") not in settings.services:
            return ("service", f"{self.service!r} is not a configured service (see [services])")
        if self.metric == "disk_percent":
            return self._path_problem(settings)
        return None

    def _path_problem(self, settings: Settings) -> tuple[str, str] | None:
        if self.path is None:
            return ("path", "disk_percent needs the path of a disk")
        if self.path not in settings.sampler.disk_paths:
            return ("path", f"{self.path!r} is not in sampler.disk_paths")
        return None


class AlertsSettings(_Section):
    """`[alerts]`: the rules."""

    rules: list[AlertRuleSettings] = Field(default_factory=list)


class NotifyTargetSettings(_Section):
    """`[[notify.targets]]`: one place notifications go."""

    name: str
    type: Literal["webhook", "alertmanager", "apprise", "command"]
    url: str | None = None
    secret: SecretStr | None = None
    urls: list[str] = Field(default_factory=list)
    argv: list[str] = Field(default_factory=list)
    timeout: float = Field(10.0, gt=0, le=600)

    _name = field_validator("name")(_checked_name)

    def problem(self) -> tuple[str, str] | None:
        """(key, why) of the first mistake for this target's type, or None."""
        if self.type in ("webhook", "alertmanager"):
            scheme = (self.url or "").split("://", 1)[0].lower()
            if scheme not in ("http", "https") or "://" not in (self.url or ""):
                return ("url", f"a {self.type} target needs an http:// or https:// URL")
        elif self.type == "command":
            if not self.argv:
                return ("argv", "a command target needs argv, a list of strings")
        elif not self.urls:
            return ("urls", "an apprise target needs a list of Apprise URLs")
        else:
            return _apprise_problem(self.urls)
        return None


def _apprise_problem(urls: list[str]) -> tuple[str, str] | None:
    try:
        import apprise
    except ImportError:
        return ("type", "apprise needs the optional extra: pip install 'checkd[apprise]'")
    for i, url in enumerate(urls):
        if not apprise.Apprise().add(url):
            return (f"urls.{i}", f"{url.split('://', 1)[0]!r} is not a URL scheme Apprise knows")
    return None


class NotifySettings(_Section):
    """`[notify]`: when to re-send, and the targets."""

    repeat: str | int = "4h"
    send_resolved: bool = True
    targets: list[NotifyTargetSettings] = Field(default_factory=list)

    @field_validator("repeat")
    @classmethod
    def _repeat(cls, value: str | int) -> str | int:
        return _duration_field(value)

    @property
    def repeat_s(self) -> int:
        """Seconds before a still-firing alert is sent again (0: never)."""
        return _seconds(self.repeat)
