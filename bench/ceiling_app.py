"""Reference apps for bench/throughput.py's "ceiling" rows: what this machine's uvicorn can serve at all.

Not a benchmark by itself. bench/throughput.py runs these under the same uvicorn settings as
`checkd serve` (asyncio loop, httptools, no access log) so the checkd figures can be read against:

    raw      a bare ASGI callable answering a fixed 400-byte JSON body (no framework at all)
    fastapi  a FastAPI app with one `async def` GET route returning the same bytes as a Response

Run by hand:
    .venv/bin/python -m uvicorn --app-dir bench ceiling_app:raw --loop asyncio --http httptools \\
        --no-access-log --port 8999
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response

BODY = (
    b'{"id":1,"host":"bench-host","taken_at":"2026-11-27T21:30:00Z","cpu":6.4,'
    + b'"pad":"'
    + b"x" * 320
    + b'"}'
)
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The fixed body for any HTTP request."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


fastapi = FastAPI()


@fastapi.get("/api/v2/checks/latest")
async def latest() -> Response:
    """The fixed body through FastAPI's routing and response machinery."""
    return Response(BODY, media_type="application/json")
