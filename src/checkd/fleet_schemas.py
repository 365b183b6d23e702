"""The HTTP shapes of the fleet routes: ingest answers and the agents' action queue."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
