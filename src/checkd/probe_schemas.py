"""The HTTP shapes of /api/v2/probes (endpoint checks) and /api/v2/processes (top processes)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from checkd.endpoints import EndpointCheck
from checkd.probes.processes import ProcessInfo
from checkd.probes.readings import EndpointResult
from checkd.schemas import utc

_DAY_S = 86400


class ProbeOut(BaseModel):
    """One endpoint check and its latest result (the result fields are null before its first run)."""

    name: str
    kind: Literal["http", "tcp"]
    target: str = Field(description="the URL (http) or host:port (tcp)")
    up: bool | None = Field(description="null before the first run")
    latency_ms: float | None = Field(description="how long the run took; null when it got no answer")
    status_code: int | None = Field(description="http only: the response's status")
    cert_days_left: float | None = Field(
        description="https only: days until the server's certificate expires (negative: expired)"
    )
    error: str | None = Field(description="why it is down, e.g. connection refused, a TLS failure")
    checked_at: datetime | None = Field(description="when the latest run started")
    interval_s: float

    @classmethod
    def of(cls, check: EndpointCheck, result: EndpointResult | None, now: float) -> ProbeOut:
        """The API shape of `check` with its latest `result` (None: not run yet), days left as of `now`."""
        expires = None if result is None else result.cert_expires_at
        return cls(
            name=check.name,
            kind="http" if check.kind == "http" else "tcp",
            target=check.target,
            up=None if result is None else result.up,
            latency_ms=None if result is None else result.latency_ms,
            status_code=None if result is None else result.status_code,
            cert_days_left=None if expires is None else round((expires - now) / _DAY_S, 2),
            error=None if result is None else result.error,
            checked_at=None if result is None else utc(result.checked_at),
            interval_s=check.interval_s,
        )


class ProcessOut(BaseModel):
    """One process, read live."""

    pid: int
    name: str
    user: str | None
    cpu_percent: float = Field(description="since the previous reading; 100 = one whole core")
    memory_rss: int = Field(description="resident memory, bytes")
    state: str = Field(description="psutil's status: running, sleeping, disk-sleep, zombie, ...")
    cmdline: list[str] | None = Field(
        None, description="the command line: only with a valid token (it can hold secrets), else null"
    )

    @classmethod
    def of(cls, p: ProcessInfo) -> ProcessOut:
        """The API shape of a process reading."""
        return cls(**dataclasses.asdict(p))
