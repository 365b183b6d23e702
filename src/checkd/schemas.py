"""Pydantic request and response shapes of the HTTP API (the contract in DESIGN.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from checkd.backlog import BacklogStatus
from checkd.host_schemas import DiskIOOut, DiskV2Out, NetOut, ProbeResultOut
from checkd.probes import Check, DiskUsage
from checkd.sampler import SamplerStatus
from checkd.upkeep import UpkeepHealth, UpkeepStatus
from checkd.vocabulary import Action, ServiceState


def utc(ts: float | None) -> datetime | None:
    """A Unix time as an aware UTC datetime (serialized as ISO 8601 with Z)."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class ErrorOut(BaseModel):
    """Every error body: `detail` names the offending parameter."""

    detail: str = Field(examples=["size: Input should be less than or equal to 10000"])


class MemoryOut(BaseModel):
    """Virtual memory in bytes."""

    total: int
    available: int
    used: int
    percent: float


class DiskOut(BaseModel):
    """Usage of one configured disk path, in bytes."""

    path: str
    total: int
    used: int
    free: int
    percent: float


class LoadOut(BaseModel):
    """Load averages over 1, 5 and 15 minutes."""

    load1: float
    load5: float
    load15: float
    load1_per_core: float | None = Field(None, description="load1 / logical CPUs; null when not recorded")


def _disk(d: DiskUsage) -> DiskOut:
    return DiskOut(path=d.path, total=d.total, used=d.used, free=d.free, percent=d.percent)


class CheckV1(BaseModel):
    """A check in the exam system's shape (v1.0 routes); fields are null when a probe failed."""

    id: int
    taken_at: datetime
    cpu: float | None
    memory: MemoryOut | None
    disk: DiskOut | None
    httpd: ServiceState | None

    @classmethod
    def of(cls, c: Check) -> CheckV1:
        """The v1 shape of a stored check (its first disk path, its `httpd` service)."""
        assert c.id is not None
        mem = c.memory
        return cls(
            id=c.id,
            taken_at=utc(c.taken_at),
            cpu=c.cpu,
            memory=None if mem is None else MemoryOut(**_mem(mem)),
            disk=_disk(c.disks[0]) if c.disks else None,
            httpd=c.services.get("httpd"),
        )


def _mem(mem: object) -> dict[str, float]:
    return {k: getattr(mem, k) for k in ("total", "available", "used", "percent")}


class CheckOut(BaseModel):
    """One check: cpu, memory, load, each disk path and each service's state."""

    id: int
    host: str
    taken_at: datetime
    cpu: float | None = Field(description="CPU busy percent over the interval before this check")
    memory: MemoryOut | None
    load: LoadOut | None
    disks: list[DiskV2Out]
    services: dict[str, ServiceState]
    swap_percent: float | None = Field(None, description="swap used (0 without swap); null when not read")
    procs: int | None = Field(None, description="processes on the host; null when not read")
    net: list[NetOut] = Field(default_factory=list, description="each configured network interface")
    disk_io: list[DiskIOOut] = Field(default_factory=list, description="each configured block device")
    probes: list[ProbeResultOut] = Field(default_factory=list, description="each endpoint check's result")

    @classmethod
    def of(cls, c: Check) -> CheckOut:
        """The v2 shape of a stored check."""
        assert c.id is not None and c.host is not None
        load = c.load
        per_core = None if load is None or not c.cpu_count else round(load.load1 / c.cpu_count, 3)
        return cls(
            id=c.id,
            host=c.host,
            taken_at=utc(c.taken_at),
            cpu=c.cpu,
            memory=None if c.memory is None else MemoryOut(**_mem(c.memory)),
            load=None
            if load is None
            else LoadOut(load1=load.load1, load5=load.load5, load15=load.load15, load1_per_core=per_core),
            disks=[DiskV2Out.of(d) for d in c.disks],
            services=c.services,
            swap_percent=None if c.swap is None else c.swap.percent,
            procs=c.procs,
            net=[NetOut.of(n) for n in c.net],
            disk_io=[DiskIOOut.of(io) for io in c.disk_io],
            probes=[ProbeResultOut.of(e) for e in c.endpoints],
        )


class CheckPage(BaseModel):
    """A page of checks, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[CheckOut]
    next_cursor: str | None


class CpuPoint(BaseModel):
    """One cpu reading."""

    taken_at: datetime
    cpu: float | None


class ProbeFailureOut(BaseModel):
    """A probe that failed on every check since `failing_since`."""

    probe: str = Field(description="cpu, memory, load, services, disk:<path>, swap, procs, net or disk_io")
    failing_since: datetime
    checks: int = Field(description="checks in a row it failed on")
    last_error: str


class SamplerOut(BaseModel):
    """The sampler's state and counters."""

    running: bool
    interval_s: int
    last_check_at: datetime | None
    checks_total: int = Field(description="checks taken by this process")
    errors_total: int = Field(description="probe failures + failed database writes + dropped checks")
    last_error: str | None
    pending_writes: int = Field(description="checks waiting in memory for the database")
    dropped_total: int = Field(description="checks dropped because the write queue was full")
    missed_slots_total: int = Field(description="cadence slots skipped because a check ran late")
    probe_failures: list[ProbeFailureOut] = Field(
        default_factory=list, description="probes that failed on each of the last 3 or more checks"
    )
    audit_pending: int = Field(0, description="audit log entries waiting in memory for the database")
    audit_dropped_total: int = Field(0, description="audit log entries dropped: too many waited")
    state_saved: bool = Field(
        True, description="false while a start/stop/interval change waits to be saved (retried)"
    )
    pending_writes_max: int = Field(0, description="most checks waiting in memory at once, since start")
    longest_write_wait_s: float = Field(
        0.0, description="longest time one write took since start, waits for another writer's lock included"
    )
    message: str | None = Field(None, description="what a start/stop call did, e.g. 'already running'")
    fleet_errors_total: int = Field(
        0,
        description="faults of the fleet hosts' alerting (claiming hosts, reading their checks) and of"
        " waking their agents' polls (PostgreSQL's LISTEN session)",
    )
    fleet_last_error: str | None = Field(None, description="the most recent of those faults")

    @classmethod
    def of(
        cls,
        st: SamplerStatus,
        message: str | None = None,
        *,
        audit: BacklogStatus | None = None,
        state_saved: bool = True,
        fleet_faults: tuple[int, str | None] = (0, None),
    ) -> SamplerOut:
        """The API shape of a sampler status (with the audit log's backlog, the state's save and the
        fleet's faults: count and last)."""
        return cls(
            fleet_errors_total=fleet_faults[0],
            fleet_last_error=fleet_faults[1],
            audit_pending=0 if audit is None else audit.pending,
            audit_dropped_total=0 if audit is None else audit.dropped_total,
            state_saved=state_saved,
            running=st.running,
            interval_s=st.interval_s,
            last_check_at=utc(None if st.last_check_at is None else int(st.last_check_at)),
            checks_total=st.checks_total,
            errors_total=st.errors_total,
            last_error=st.last_error,
            pending_writes=st.pending_writes,
            dropped_total=st.dropped_total,
            missed_slots_total=st.missed_slots_total,
            probe_failures=[
                ProbeFailureOut(
                    probe=f.probe,
                    failing_since=datetime.fromtimestamp(f.since, UTC),
                    checks=f.checks,
                    last_error=f.error,
                )
                for f in st.probe_failures
            ],
            pending_writes_max=st.pending_writes_max,
            longest_write_wait_s=round(st.longest_write_wait_s, 3),
            message=message,
        )


def _json_integer(value: object) -> object:
    # JSON Schema's integer: 5 and 5.0 are integers; true and "5" are not (pydantic's lax mode
    # would read them as 1 and 5, and its strict mode would refuse 5.0).
    if isinstance(value, bool | str):
        raise ValueError(f"must be a JSON integer, not {type(value).__name__} {value!r}")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class SamplerUpdate(BaseModel):
    """Body of PUT /api/v2/sampler."""

    model_config = ConfigDict(extra="forbid")
    interval_s: JsonInt = Field(ge=1, le=86400, description="seconds between checks, 1..86400")


class UpkeepOut(BaseModel):
    """The upkeep thread (rollup fold and retention prune) and its counters."""

    running: bool
    health: UpkeepHealth = Field(
        description="ok; failing when the last round failed; behind when no fold completed for 3 rounds"
    )
    fold_every_s: float = Field(description="seconds between fold rounds")
    folded_total: int = Field(description="raw checks folded into rollups by this process")
    deleted_total: int = Field(description="rows deleted past their retention by this process")
    errors_total: int = Field(description="fold or prune rounds that failed")
    last_error: str | None
    last_fold_at: datetime | None = Field(description="when the last complete fold ended")
    fold_lag_s: float | None = Field(description="seconds since the last complete fold")
    last_prune_at: datetime | None

    @classmethod
    def of(cls, st: UpkeepStatus) -> UpkeepOut:
        """The API shape of an upkeep status."""
        return cls(
            running=st.running,
            health=st.health,
            fold_every_s=st.fold_every_s,
            folded_total=st.folded_total,
            deleted_total=st.deleted_total,
            errors_total=st.errors_total,
            last_error=st.last_error,
            last_fold_at=utc(st.last_fold_at),
            fold_lag_s=None if st.fold_lag_s is None else round(st.fold_lag_s, 3),
            last_prune_at=utc(st.last_prune_at),
        )


class HealthOut(BaseModel):
    """Liveness: `sampler` is failing when writes fail or checks are overdue."""

    status: Literal["ok", "degraded"]
    sampler: Literal["running", "stopped", "failing"]
    database: str = Field(description="'ok', or why the database is unavailable")
    probes: str = Field("ok", description="'ok', or which probes fail on every check and why")
    alerts_firing: int = Field(0, description="alerts firing or given up (see /api/v2/alerts)")
    upkeep: UpkeepHealth = Field("ok", description="the rollup fold: ok, failing or behind (then degraded)")


class ServiceOut(BaseModel):
    """A configured service and its current state."""

    name: str
    unit: str | None = Field(
        description="the init-system unit checkd controls; null for a command-backed service naming none"
    )
    state: ServiceState
    control: bool


class ActionOut(BaseModel):
    """The result of a start/stop/restart."""

    service: str
    action: Action
    ok: bool
    state: ServiceState
    exit_code: int | None
    output: str = Field(description="last 4 KiB of the command's output")
    duration_ms: int
    at: datetime
    message: str
    detail: str | None = Field(None, description="why it failed (when ok is false)")


class AuditOut(BaseModel):
    """One audit-log entry: every action attempt, refused ones included."""

    id: int
    host: str
    at: datetime
    actor: str
    service: str
    action: str
    ok: bool
    status: int = Field(description="HTTP status the action got")
    state: str | None
    exit_code: int | None
    duration_ms: int
    message: str


class HostOut(BaseModel):
    """A host that has written to this database."""

    name: str
    last_check_at: datetime | None
    checks: int


class HistoryPoint(BaseModel):
    """One bucket: its start time and the min, mean and max of the metric in it."""

    t: datetime
    min: float
    avg: float
    max: float


class HistoryOut(BaseModel):
    """A metric's history; `resolution_s` is the bucket width (1 = raw checks)."""

    metric: str
    resolution_s: int
    points: list[HistoryPoint]
