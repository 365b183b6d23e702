"""The HTTP shapes of the fleet routes: ingest answers and the agents' action queue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from checkd.vocabulary import ServiceState


class IngestOut(BaseModel):
    """What a pushed batch did: checks stored now, and checks stored before (a retried batch)."""

    accepted: int = Field(description="checks stored by this request")
    duplicates: int = Field(description="checks whose (host, seq) was stored already; not stored again")


class QueuedActionOut(BaseModel):
    """A service action queued for an agent's host."""

    id: int
    service: str
    action: str
    actor: str


class AgentActionResult(BaseModel):
    """What an agent posts back after running a queued action (the same fields as an action result)."""

    status: int = Field(ge=200, le=599, description="the HTTP status the action got on the agent's host")
    ok: bool
    state: ServiceState
    exit_code: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    output: str = Field("", max_length=8192)  # the runner keeps the last 4 KiB
    duration_ms: int = Field(ge=0, le=2**31 - 1)
    at: datetime
    message: str = Field(max_length=1000)


class AgentActionAck(BaseModel):
    """The result was stored."""

    id: int
    status: str
