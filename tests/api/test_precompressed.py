"""Static files gzipped once per process: the dashboard's versioned files and the chart library."""

from __future__ import annotations

import gzip
import re

import httpx

from checkd.api.routes.dashboard import STATIC_DIR, vendor_path
from checkd_process import CheckdProcess


def _raw(server: CheckdProcess, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """GET `path`: the response and its body as sent (httpx does not inflate it)."""
    with (
        httpx.Client(base_url=server.url(""), trust_env=False) as c,
        c.stream("GET", path, headers=headers) as r,
    ):
        return r, b"".join(r.iter_raw())


def test_versioned_files_and_the_chart_library_come_gzipped_and_whole(server: CheckdProcess) -> None:
    version = re.search(r"/static/(v-[0-9a-f]+)/dashboard\.js", server.get("/").text)
    assert version
    path = f"/static/{version.group(1)}/dashboard.js"
    source = (STATIC_DIR / "dashboard.js").read_bytes()
    first, body = _raw(server, path, {"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip" and "Accept-Encoding" in first.headers["vary"]
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(body) == source
    assert _raw(server, path, {"Accept-Encoding": "gzip"})[1] == body  # the kept copy, byte for byte
    plain, plain_body = _raw(server, path, {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain_body == source
    ranged, part = _raw(server, path, {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and part == source[:10]  # a range is served from the file as it is
    chart, chart_body = _raw(server, "/static/vendor/uplot.min.js", {"Accept-Encoding": "gzip"})
    library = vendor_path("uplot.min.js")
    assert library is not None
    assert chart.status_code == 200 and chart.headers["content-encoding"] == "gzip"
    assert gzip.decompress(chart_body) == library.read_bytes()
