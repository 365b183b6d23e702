"""The `[probes]` section of the settings: endpoint checks `[[probes.http]]` and `[[probes.tcp]]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checkd.config_alerts import _checked_name, _duration_field, _seconds


class _EndpointSettings(BaseModel):
    """What every endpoint check has: a unique name, a timeout and its own interval."""

    model_config = ConfigDict(extra="forbid")

    name: str
    timeout: str | int = "5s"
    interval: str | int = "30s"

    _name = field_validator("name")(_checked_name)

    @field_validator("timeout", "interval")
    @classmethod
    def _durations(cls, value: str | int) -> str | int:
        if _seconds(_duration_field(value)) < 1:
            raise ValueError("must be at least 1s")
        return value

    @property
    def timeout_s(self) -> int:
        """Seconds a run may take before it counts as down."""
        return _seconds(self.timeout)

    @property
    def interval_s(self) -> int:
        """Seconds between the starts of two runs."""
        return _seconds(self.interval)

    def problem(self) -> tuple[str, str] | None:
        """(key, why) of the first mistake across this check's keys, or None."""
        if self.timeout_s > self.interval_s:
            return ("timeout", f"{self.timeout} is longer than interval ({self.interval})")
        return None


class HttpProbeSettings(_EndpointSettings):
    """`[[probes.http]]`: GET `url`; up when it answers `expect_status` with `contains` in the body."""

    url: str
    expect_status: int = Field(200, ge=100, le=599)
    contains: str = ""
    ca_file: Path | None = None  # a CA bundle to verify the server with (default: the system's)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url

    @field_validator("ca_file")
    @classmethod
    def _readable(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{path} is not a readable file")
        return path


class TcpProbeSettings(_EndpointSettings):
    """`[[probes.tcp]]`: up when a TCP connection to host:port opens within the timeout."""

    timeout: str | int = "3s"
    host: str = Field(min_length=1, max_length=255)
    port: int

    @field_validator("port")
    @classmethod
    def _port(cls, port: int) -> int:
        if not 1 <= port <= 65535:
            raise ValueError("must be 1..65535")
        return port


class ProbesSettings(BaseModel):
    """`[probes]`: the endpoint checks, each run on its own schedule."""

    model_config = ConfigDict(extra="forbid")

    http: list[HttpProbeSettings] = Field(default_factory=list)
    tcp: list[TcpProbeSettings] = Field(default_factory=list)

    def names(self) -> list[str]:
        """Every endpoint check's name, http first."""
        return [p.name for p in [*self.http, *self.tcp]]

    def problem(self) -> tuple[str, str] | None:
        """(key, why) of the first mistake; names are unique across http and tcp (one metric each)."""
        seen: set[str] = set()
        sections: list[tuple[str, list[Any]]] = [("http", self.http), ("tcp", self.tcp)]
        for section, items in sections:
            for i, item in enumerate(items):
                if item.name in seen:
                    return (f"probes.{section}.{i}.name", f"duplicate name {item.name!r}")
                seen.add(item.name)
                found = item.problem()
                if found is not None:
                    return (f"probes.{section}.{i}.{found[0]}", found[1])
        return None
