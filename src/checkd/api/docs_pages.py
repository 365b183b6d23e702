"""The API docs: /docs (Swagger UI) and /redoc on fastapi-offline's assets, no request leaving checkd."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

# Where FastAPIOffline mounts the Swagger UI and Redoc bundles it ships (its default static_url).
ASSETS = "/static-offline-docs"
V1_PREFIX = "/v1.0/"
V1_DESCRIPTION = (
    "The v1.0 compatibility routes: kept unchanged for v1.0 clients. New clients use the v2 API above."
)
# Redoc's bundle shows its attribution logo from https://cdn.redoc.ly, with no option to leave it
# out. Rather than rewrite the third-party bundle, the page tells the browser to load from checkd
# only: the browser refuses the logo without sending a request, and Redoc drops the failed image.
# Inline script and style: FastAPI's page bootstrap and Redoc's styled-components; blob: is the
# worker Redoc's search runs in.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Swagger UI's online validator badge is an image from validator.swagger.io: off.
SWAGGER_PARAMETERS: dict[str, Any] = {"validatorUrl": None}

router = APIRouter(include_in_schema=False)


def _urls(request: Request) -> tuple[str, str, str]:
    """The page title, the OpenAPI document's URL and the assets' URL prefix, under any root path."""
    app = request.app
    root = request.scope.get("root_path", "")
    return app.title, f"{root}{app.openapi_url}", f"{root}{ASSETS}"


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document."""
    title, openapi_url, assets = _urls(request)
    return _offline(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=request.app.swagger_ui_oauth2_redirect_url,
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            swagger_ui_parameters={**(request.app.swagger_ui_parameters or {}), **SWAGGER_PARAMETERS},
        )
    )


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page."""
    return _offline(get_swagger_ui_oauth2_redirect_html())


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """Redoc for the OpenAPI document."""
    title, openapi_url, assets = _urls(request)
    return _offline(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )
    )


def with_tag_order(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its tags listed as the docs show them: the v2 API first, the v1.0 routes last."""
    first: list[str] = []
    last: list[str] = []
    for path, operations in document.get("paths", {}).items():
        group = last if path.startswith(V1_PREFIX) else first
        for operation in operations.values():
            for tag in operation.get("tags", []):
                if tag not in first and tag not in last:
                    group.append(tag)
    document["tags"] = [{"name": t} for t in first] + [
        {"name": t, "description": V1_DESCRIPTION} for t in last
    ]
    return document
