"""Network and disk I/O charts, the endpoint-checks panel and the top-processes table, in chromium."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from checkd_process import CheckdProcess, free_port
from tls_site import Site, ca_signed

from .helpers import Page

pytestmark = pytest.mark.browser

BUSY = "import time\nwhile True: time.time()"


@pytest.fixture
def web_port() -> Iterator[int]:
    """A real HTTP server on a loopback port answering 200 (the endpoint check that is up)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def busy() -> Iterator[int]:
    """A child process spinning on one core, for the top-processes table."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_io_charts_endpoint_checks_and_top_processes(
    make_server: Callable[..., CheckdProcess],
    open_page: Callable[..., Page],
    tmp_path: Path,
    web_port: int,
    busy: int,
) -> None:
    closed = free_port()  # nothing listens there: that check is down
    config = tmp_path / "checkd.toml"
    config.write_text(
        f"""
[sampler]
net_interfaces = ["lo"]

[[probes.http]]
name = "local-web"
url = "http://127.0.0.1:{web_port}/"
timeout = "1s"
interval = "1s"

[[probes.tcp]]
name = "closed-port"
host = "127.0.0.1"
port = {closed}
timeout = "1s"
interval = "1s"
"""
    )
    server = make_server(args=("--config", str(config)))
    p = open_page(server)
    page = p.page

    page.wait_for_selector('#probes-body tr[data-probe="closed-port"][data-up="false"]')
    page.wait_for_selector('#probes-body tr[data-probe="local-web"][data-up="true"]')
    up = page.inner_text('#probes-body tr[data-probe="local-web"]')
    assert "up" in up and " ms" in up and "200" in up, up
    down = page.inner_text('#probes-body tr[data-probe="closed-port"]')
    assert "down" in down and "refused" in down.lower(), down
    page.wait_for_function(
        "() => document.getElementById('status-text').textContent.includes('endpoint check closed-port down')"
    )
    status = page.inner_text("#status-text")
    assert "local-web" not in status, status
    assert page.get_attribute("#status", "data-level") == "bad"

    # cpu % is measured between two readings: the busy child shows from the second read on
    page.wait_for_selector(f'#processes-body tr[data-pid="{busy}"]', timeout=40_000)
    rows = page.locator("#processes-body tr").count()
    assert 1 <= rows <= 10, rows

    page.wait_for_function(
        "() => document.querySelector('#chart-net figcaption').textContent === 'network bytes/s (lo)'"
    )
    assert page.locator("#chart-net canvas").count() == 1
    page.wait_for_function("() => Number(document.querySelector('#chart-net').dataset.points || 0) >= 1")
    assert "lo rx over the last hour: newest " in page.inner_text("#chart-net .chart-text")
    assert "/s" in page.inner_text("#chart-net .chart-text")
    caption = page.inner_text("#chart-diskio figcaption")
    devices = [d["device"] for d in server.get("/api/v2/checks/latest").json()["disk_io"]]
    assert caption == f"disk I/O bytes/s ({', '.join(devices) or 'no devices'})", (caption, devices)
    assert page.locator("#chart-diskio canvas").count() == 1
    p.shot("dashboard-panels")
    assert p.errors == [], p.errors


def test_a_certificate_with_one_day_left_says_day(
    make_server: Callable[..., CheckdProcess], open_page: Callable[..., Page], tmp_path: Path
) -> None:
    ca, leaf = ca_signed(tmp_path, days=1)  # valid from now for a day
    with Site(tls=leaf) as site:
        config = tmp_path / "checkd.toml"
        config.write_text(
            f"""
[[probes.http]]
name = "short-cert"
url = "{site.url()}"
ca_file = "{ca.cert}"
timeout = "1s"
interval = "1s"
"""
        )
        server = make_server(args=("--config", str(config)))
        p = open_page(server)
        row = p.page.locator('#probes-body tr[data-probe="short-cert"][data-up="true"]')
        row.wait_for()
        assert row.locator("td").nth(3).inner_text() == "1 day left"  # not "1 days left"
        p.shot("probes-one-day-left")
