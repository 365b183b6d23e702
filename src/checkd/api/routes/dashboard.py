"""The browser dashboard: GET / (one HTML page), its own static files and the packaged chart library."""

from __future__ import annotations

import hashlib
import html
from functools import cache
from importlib import metadata
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.staticfiles import StaticFiles

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


def static_files() -> StaticFiles:
    """The dashboard's own JS and CSS, to mount at /static."""
    return StaticFiles(directory=STATIC_DIR)


@cache
def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def _template() -> str:
    return (WEB_DIR / "templates" / "index.html").read_text(encoding="utf-8")


def render_page(host: str) -> str:
    """The dashboard HTML for this checkd's `host`."""
    return (
        _template()
        .replace("{{host}}", html.escape(host, quote=True))
        .replace("{{v}}", _asset_version())
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    """The dashboard page; everything on it is loaded from this server."""
    host: str = request.app.state.agent.host
    return HTMLResponse(
        render_page(host),
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
def vendor(name: str) -> FileResponse:
    """uPlot's JS or CSS, served from the installed `youplot` package's directory."""
    if name not in _VENDOR_FILES:
        raise HTTPException(404, f"name: no vendor file {name!r}")
    path = vendor_path(name)
    if path is None:
        raise HTTPException(404, f"name: {name} missing: the pip package {CHART_PACKAGE!r} is not installed")
    return FileResponse(
        path,
        media_type=_VENDOR_FILES[name][1],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
