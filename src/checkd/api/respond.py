"""Helpers for routes: the sampler's answers and the OpenAPI error responses."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from checkd.monitor import Monitor, StateChange
from checkd.schemas import SamplerOut

_DESCRIPTIONS = {
    401: "missing or wrong token",
    403: "the token lacks the scope this route needs (`detail` names it), or the service has control = false",
    404: "not found; `detail` names the parameter",
    409: "another action on this service is running",
    413: "the body is larger than server.max_body (1 MiB by default)",
    422: "a bad parameter or body; `detail` names it",
    429: "too many failed authentications from this client; see Retry-After",
    502: "the command failed or the state did not follow",
    503: "the database is unavailable (`detail` says why); a sampler change applies but is not saved yet",
    504: "the command timed out; its process group was killed",
}


def sampler_out(monitor: Monitor, message: str | None = None) -> SamplerOut:
    """The sampler's status, with what waits to be saved (audit entries, its own state) and the
    fleet's faults."""
    return SamplerOut.of(
        monitor.sampler.status(),
        message,
        audit=monitor.audit.status(),
        state_saved=not monitor.state_saves.pending,
        fleet_faults=(monitor.fleet_alerts.errors_total, monitor.fleet_alerts.last_error),
    )


def sampler_answer(monitor: Monitor, change: StateChange, message: str) -> SamplerOut:
    """The sampler's status after a start/stop/interval call; 503 saying so when it is not saved."""
    if change.unsaved is not None:
        raise HTTPException(503, change.unsaved)
    return sampler_out(monitor, message)


def error_responses(*codes: int, body: Any = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for `codes`: ErrorOut bodies, or `body` for 502/504 (action results)."""
    from checkd.schemas import ErrorOut

    return {
        code: {
            "model": body if code in (502, 504) and body is not None else ErrorOut,
            "description": _DESCRIPTIONS[code],
        }
        for code in codes
    }
