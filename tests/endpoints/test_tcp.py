"""The tcp endpoint check against a real listening port, a closed one and a name that does not resolve."""

from __future__ import annotations

import socket
import threading
import time

from checkd.endpoints.tcp import TcpProbe, TcpTarget
from checkd_process import free_port


def test_an_open_port_is_up_with_its_latency() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = TcpProbe(TcpTarget("db", "127.0.0.1", port, 3)).run()
    assert result.up and result.kind == "tcp" and result.error is None
    assert result.latency_ms is not None and 0 < result.latency_ms < 3000


def test_a_closed_port_is_down_refused() -> None:
    result = TcpProbe(TcpTarget("db", "127.0.0.1", free_port(), 3)).run()
    assert not result.up
    assert result.error == "connection refused"
    assert result.latency_ms is None


def test_a_host_that_does_not_resolve_is_down_with_the_reason() -> None:
    result = TcpProbe(TcpTarget("db", "db.invalid", 5432, 3)).run()
    assert not result.up
    assert result.error is not None and result.error.startswith("cannot resolve host: ")


def test_a_name_lookup_that_hangs_ends_with_the_timeout() -> None:
    release = threading.Event()

    def hangs(host: str, port: int) -> list[str]:
        release.wait(30)
        return ["127.0.0.1"]

    try:
        started = time.monotonic()
        result = TcpProbe(TcpTarget("db", "hangs.test", 5432, 1), resolve=hangs).run()
        took = time.monotonic() - started
    finally:
        release.set()
    assert not result.up and result.error == "name lookup of hangs.test timed out"
    assert 0.9 < took < 1.5
