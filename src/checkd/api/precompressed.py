"""Static files gzipped once per process: a cold dashboard load costs no compression on the event loop."""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

LEVEL = 9
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
_MAX_FILES = 64  # the dashboard's own files and the chart library's, with room for edits while serving


@lru_cache(maxsize=_MAX_FILES)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    # mtime and size are in the key so a file changed on disk is compressed again, not served stale.
    del mtime_ns, size
    return gzip.compress(Path(path).read_bytes(), LEVEL, mtime=0)


def wants_gzip(scope: Scope) -> bool:
    """True for a GET whose client accepts gzip and asked for the whole file (no Range)."""
    if scope.get("method") != "GET":
        return False
    headers = Headers(scope=scope)
    return "gzip" in headers.get("accept-encoding", "").lower() and "range" not in headers


def gzipped_file(
    path: str | os.PathLike[str], stat: os.stat_result, media_type: str, headers: dict[str, str]
) -> Response | None:
    """The file at `path` as a gzipped Response with `headers`, compressed on first use and kept;
    None when its media type does not compress (the caller sends it as it is)."""
    if not media_type.startswith(_COMPRESSIBLE):
        return None
    body = _gzipped(os.fspath(path), stat.st_mtime_ns, stat.st_size)
    return Response(
        body,
        media_type=media_type,
        headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
    )
