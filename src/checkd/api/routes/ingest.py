"""POST /api/v2/ingest: checks pushed by fleet agents (`checkd agent`), stored once per (host, seq)."""

from __future__ import annotations

import json
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic_core import from_json
from starlette.concurrency import run_in_threadpool

from checkd.api.authn import Principal
from checkd.api.deps import MonitorDep, require_ready, require_scope, token_revoked
from checkd.api.respond import error_responses
from checkd.fleet_schemas import IngestOut
from checkd.monitor import Monitor
from checkd.probes import Check
from checkd.probes.wire import HOST_MAX, LOAD_MAX, MEMORY_KEYS, SEQ_MAX, WireError, from_wire
from checkd.store.pushed import Pushed, store_batch
from checkd.store.tokens import TokenGone
from checkd.vocabulary import SERVICE_STATES

router = APIRouter(prefix="/api/v2", tags=["fleet"])

MAX_CHECKS = 5000
MAX_BODY = 4 * 1024 * 1024  # as sent (gzip or not): BodyGate refuses more before reading it
MAX_INFLATED = 64 * 1024 * 1024  # a gzip body inflated: more is refused, not buffered

_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
_BYTES = {"type": "integer", "minimum": 0, "maximum": SEQ_MAX}
_NAME = {"type": "string", "minLength": 1, "pattern": "^[^\\x00-\\x1f\\x7f]+$"}
_LOAD = {"type": "number", "minimum": 0, "maximum": LOAD_MAX}


def _obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


# One pushed check (probes/wire.py): null where the agent's probe failed.
CHECK_SCHEMA = _obj(
    {
        "host": {**_NAME, "maxLength": HOST_MAX},
        "seq": {"type": "integer", "minimum": 0, "maximum": SEQ_MAX, "description": "the agent's number"},
        "taken_at": {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"},
        "cpu": {"anyOf": [_PERCENT, {"type": "null"}]},
        "memory": {
            "anyOf": [
                _obj(
                    {"total": _BYTES, "available": _BYTES, "used": _BYTES, "percent": _PERCENT},
                    list(MEMORY_KEYS),
                ),
                {"type": "null"},
            ]
        },
        "load": {
            "anyOf": [
                _obj({k: _LOAD for k in ("load1", "load5", "load15")}, ["load1", "load5", "load15"]),
                {"type": "null"},
            ]
        },
        "disks": {
            "type": "array",
            "items": _obj(
                {
                    "path": {**_NAME, "maxLength": 4096},
                    "total": _BYTES,
                    "used": _BYTES,
                    "free": _BYTES,
                    "percent": _PERCENT,
                },
                ["path", "total", "used", "free", "percent"],
            ),
        },
        "services": {
            "type": "object",
            "propertyNames": {**_NAME, "maxLength": 100},
            "additionalProperties": {"type": "string", "enum": list(SERVICE_STATES)},
        },
    },
    ["host", "seq", "taken_at"],
)

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "A JSON array, or NDJSON (one check per line), of checks, optionally with"
            " `Content-Encoding: gzip`; at most 5,000 checks and 4 MiB as sent."
        ),
        "content": {
            "application/json": {"schema": {"type": "array", "items": CHECK_SCHEMA}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


def inflate(raw: bytes, encoding: str) -> bytes:
    """The body as sent, un-gzipped when `encoding` says gzip; 413 past MAX_INFLATED, 422 if corrupt."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise HTTPException(422, f"Content-Encoding: {encoding!r} is not accepted; send gzip or nothing")
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(raw, MAX_INFLATED)
    except zlib.error as exc:
        raise HTTPException(422, f"body: not valid gzip ({exc})") from None
    if inflater.unconsumed_tail:
        raise HTTPException(413, f"body: larger than {MAX_INFLATED} bytes once inflated")
    if not inflater.eof:
        raise HTTPException(422, "body: gzip stream is truncated")
    return body


def parse_checks(body: bytes) -> Pushed:
    """(host, seq, check) of each pushed check, in order; 413 over MAX_CHECKS, 422 naming the index."""
    text = body.lstrip()
    if not text:
        raise HTTPException(422, "body: missing; send a JSON array or NDJSON of checks")
    if text.startswith(b"["):
        try:  # pydantic-core's parser (Rust) is faster than json's; json names what is wrong
            items = from_json(text)
        except ValueError:
            try:
                items = json.loads(text)
            except ValueError as exc:
                raise HTTPException(422, f"body: not valid JSON ({exc})") from None
    else:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > MAX_CHECKS:
            raise HTTPException(413, f"body: more than {MAX_CHECKS} checks in one batch")
        items = []
        for i, line in enumerate(lines):
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                raise HTTPException(422, f"checks[{i}]: not valid JSON ({exc})") from None
    if not isinstance(items, list):
        raise HTTPException(422, "body: must be a JSON array of checks, or NDJSON")
    if len(items) > MAX_CHECKS:
        raise HTTPException(413, f"body: more than {MAX_CHECKS} checks in one batch")
    pushed: list[tuple[str, int, Check]] = []
    for i, item in enumerate(items):
        try:
            pushed.append(from_wire(item))
        except WireError as exc:
            raise HTTPException(422, f"checks[{i}].{exc.field}: {exc.why}") from None
    return pushed


def _take(monitor: Monitor, principal: Principal, raw: bytes, encoding: str) -> IngestOut:
    """Inflate, parse, check and store a batch: one hop off the event loop for all of it."""
    pushed = parse_checks(inflate(raw, encoding))
    if principal.host is not None or principal.scope == "ingest":
        for i, (host, _, _) in enumerate(pushed):
            if host != principal.host:
                raise HTTPException(403, f"checks[{i}].host: this token pushes only host {principal.host!r}")
    require_ready(monitor)
    stored, duplicates = store_batch(engine=monitor.engine, pushed=pushed, token_hash=principal.token_hash)
    monitor.ingested(stored)
    return IngestOut(accepted=len(stored), duplicates=duplicates)


@router.post(
    "/ingest",
    response_model=IngestOut,
    summary="Store checks pushed by fleet agents",
    responses=error_responses(401, 403, 413, 422, 429, 503),
    openapi_extra=_BODY_DOC,
)
async def ingest(
    request: Request,
    monitor: MonitorDep,
    principal: Annotated[Principal, Depends(require_scope("ingest"))],
) -> IngestOut:
    """Store a batch of checks; a check whose (host, seq) is stored already counts as a duplicate.

    An ingest token pushes only its own host (403 otherwise); a malformed check refuses the whole
    batch (422 naming its index) and nothing of it is stored."""
    raw = await request.body()
    try:
        return await run_in_threadpool(
            _take, monitor, principal, raw, request.headers.get("content-encoding", "")
        )
    except TokenGone:  # revoked since the token was verified: nothing was stored
        raise token_revoked(request, principal) from None
