"""The browser dashboard: GET / (one HTML page), its own static files and the packaged chart library."""

from __future__ import annotations

import hashlib
import html
import json
import os
import time
from functools import cache
from importlib import metadata
from os import PathLike
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from checkd.api.precompressed import gzipped_file, wants_gzip
from checkd.thresholds import dashboard_levels

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
STATIC_DIR = WEB_DIR / "static"
# The chart library (uPlot) comes from a pip package that ships its built files: no CDN, no copy here.
CHART_PACKAGE = "youplot"
_VENDOR_FILES = {
    "uplot.min.js": ("youplot/vendor/uplot.iife.min.js", "text/javascript; charset=utf-8"),
    "uplot.min.css": ("youplot/vendor/uplot.min.css", "text/css; charset=utf-8"),
}
# A strict policy: the page has no inline script, style element or event handler attribute.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


class VersionedStatic(StaticFiles):
    """Static files also reachable under `v-<hash>/`: such URLs never change, so they are cached for good.

    The page loads its modules from /static/v-<hash>/, so their relative imports are versioned too."""

    def get_path(self, scope: Scope) -> str:
        """The file's path, without a leading `v-<hash>/` segment (remembered in the scope)."""
        path = super().get_path(scope)
        head, sep, rest = path.partition("/")
        if sep and head.startswith("v-"):
            scope["checkd.versioned"] = True
            return rest
        return path

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, with long caching for versioned URLs and revalidation for plain ones; a versioned
        file is sent gzipped from the copy compressed on its first request."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        immutable = scope.get("checkd.versioned", False)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if immutable and status_code == 200 and wants_gzip(scope):
            headers = {
                "Cache-Control": response.headers["Cache-Control"],
                "X-Content-Type-Options": "nosniff",
            }
            return gzipped_file(full_path, stat_result, response.media_type or "", headers) or response
        return response


def static_files() -> StaticFiles:
    """The dashboard's own JS and CSS, to mount at /static."""
    return VersionedStatic(directory=STATIC_DIR)


@cache
def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def _chart_version() -> str:
    try:
        return metadata.version(CHART_PACKAGE)
    except metadata.PackageNotFoundError:
        return "missing"


@cache
def _template() -> str:
    return (WEB_DIR / "templates" / "index.html").read_text(encoding="utf-8")


# The first chart (cpu over the default hour): its read starts while the page's scripts still load.
FIRST_READ = "/api/v2/history/cpu_percent?since={since}&points=400"  # about a chart's width in pixels
FIRST_RANGE_S = 3600


def first_read_link(now: float) -> str:
    """A preload link for the first chart's history read (the dashboard's script uses its answer)."""
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(now) - FIRST_RANGE_S))
    href = html.escape(FIRST_READ.format(since=since), quote=True)
    return f'<link rel="preload" as="fetch" crossorigin="anonymous" id="first-read" href="{href}">'


def render_page(host: str, levels: object = None, first_read: str = "") -> str:
    """The dashboard HTML for this checkd's `host`, with the warn/bad `levels` it marks values by
    and the `first_read` preload link ("" for none)."""
    return (
        _template()
        .replace("{{first_read}}", first_read)
        .replace("{{host}}", html.escape(host, quote=True))
        .replace("{{levels}}", html.escape(json.dumps(levels or {}), quote=True))
        .replace("{{v}}", _asset_version())
        .replace("{{uv}}", _chart_version())
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    """The dashboard page; everything on it is loaded from this server."""
    monitor = request.app.state.monitor
    # Only for the default view (this host, the last hour), and not when reads need the token (the
    # preload carries none).
    default_view = not request.query_params.get("host") and request.query_params.get("range", "1h") == "1h"
    preload = default_view and not monitor.settings.auth.protect_reads
    first_read = first_read_link(time.time()) if preload else ""
    return HTMLResponse(
        render_page(monitor.host, dashboard_levels(monitor.settings), first_read),
        headers={
            "Content-Security-Policy": CSP,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def vendor_path(name: str) -> Path | None:
    """Where the installed chart package keeps `name`; None when it is not installed."""
    relative, _ = _VENDOR_FILES[name]
    try:
        path = Path(str(metadata.distribution(CHART_PACKAGE).locate_file(relative)))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


@router.get("/static/vendor/{name}")
def vendor(name: str, request: Request) -> Response:
    """uPlot's JS or CSS, served from the installed `youplot` package's directory (gzipped once)."""
    if name not in _VENDOR_FILES:
        raise HTTPException(404, f"name: no vendor file {name!r}")
    path = vendor_path(name)
    if path is None:
        raise HTTPException(404, f"name: {name} missing: the pip package {CHART_PACKAGE!r} is not installed")
    media_type = _VENDOR_FILES[name][1]
    headers = {"Cache-Control": "public, max-age=604800", "X-Content-Type-Options": "nosniff"}
    if wants_gzip(request.scope):
        zipped = gzipped_file(path, path.stat(), media_type, headers)
        if zipped is not None:
            return zipped
    return FileResponse(path, media_type=media_type, headers=headers)
