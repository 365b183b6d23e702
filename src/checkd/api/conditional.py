"""Conditional GETs: a JSON answer carries an ETag, and a request whose If-None-Match names it gets 304."""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = "application/json"


def entity_tag(body: bytes) -> str:
    """A strong entity tag for `body`: a short digest of the bytes, as a quoted string."""
    digest = hashlib.blake2b(body, digest_size=8).digest()
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """True when the If-None-Match header value names `tag` (or is `*`); weak tags compare by value."""
    if not if_none_match:
        return False
    for item in if_none_match.split(","):
        candidate = item.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


class ConditionalGet:
    """ASGI middleware: a 200 JSON answer to a GET, sent in one piece, gets an ETag of its bytes;
    when the request's If-None-Match names that tag, the answer is 304 without a body.

    The route still runs (the tag is of what it answered), so a 304 saves the client's bytes, not
    the server's work; streamed answers pass untouched (no buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        wanted = Headers(scope=scope).get("if-none-match")
        start: Message | None = None

        async def tag(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] == 200 and _is_json(message):
                    start = message  # held until the body shows whether it comes in one piece
                    return
            elif start is not None and message["type"] == "http.response.body":
                held, start = start, None
                if message.get("more_body", False):
                    await send(held)
                else:
                    etag = entity_tag(message.get("body", b""))
                    headers = MutableHeaders(raw=held["headers"])
                    headers["ETag"] = etag
                    if matches(wanted, etag):
                        await send(_not_modified(held, etag))
                        await send({"type": "http.response.body", "body": b""})
                        return
                    await send(held)
            await send(message)

        await self.app(scope, receive, tag)


def _is_json(start: Message) -> bool:
    media = Headers(raw=start.get("headers", [])).get("content-type", "")
    return media.partition(";")[0].strip().lower() == JSON


def _not_modified(start: Message, etag: str) -> Message:
    # RFC 9110 15.4.5: a 304 carries the validators and caching headers a 200 would have had.
    keep = {b"cache-control", b"content-location", b"date", b"expires", b"vary"}
    headers = [(k, v) for k, v in start["headers"] if k.lower() in keep]
    headers.append((b"etag", etag.encode("ascii")))
    return {"type": "http.response.start", "status": 304, "headers": headers}
