"""The agent's HTTP/1.1 connection against a real loopback server that answers raw bytes."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkd.agent.http_connection import BadResponse, HttpConnection

# What the server answers for each path (the request's body is echoed where {body} is).
ANSWERS = {
    "/length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n\r\n{body}",
    "/chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4;ext=1\r\n{"a"\r\n3\r\n: 1\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n'
    ),
    "/until-close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it",
    "/no-content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "/garbage": b"SPDY/9 nope\r\n\r\n",
    "/close-after": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.server.connections += 1  # type: ignore[attr-defined]
        while True:
            line = self.rfile.readline()
            if not line:
                return
            path = line.split()[1].decode()
            length = 0
            while (header := self.rfile.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = self.rfile.read(length)
            answer = ANSWERS[path].replace(b"{n}", str(len(body)).encode()).replace(b"{body}", body)
            self.wfile.write(answer)
            if path in ("/until-close", "/close-after", "/garbage"):
                return  # the server ends this connection


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0  # accepted so far


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _conn(srv: _Server) -> HttpConnection:
    return HttpConnection("127.0.0.1", srv.server_address[1], timeout=5)


def test_a_length_framed_answer_and_the_connection_kept_for_the_next(server: _Server) -> None:
    conn = _conn(server)
    first = conn.request("POST", "/length", b'{"x": 1}', {"Content-Type": "application/json"}, 5)
    assert (first.status, first.body, first.will_close) == (200, b'{"x": 1}', False)
    assert first.headers["content-type"] == "application/json"
    sock = conn.sock
    second = conn.request("GET", "/length", None, {}, 5)
    assert second.body == b"" and conn.sock is sock and server.connections == 1
    conn.close()


def test_a_chunked_answer_with_extensions_and_trailers(server: _Server) -> None:
    conn = _conn(server)
    answer = conn.request("GET", "/chunked", None, {}, 5)
    assert answer.body == b'{"a": 1}'
    assert conn.request("GET", "/no-content", None, {}, 5).body == b""  # same connection still in step
    conn.close()


def test_an_answer_framed_by_the_close_and_a_server_that_closed_an_idle_connection(server: _Server) -> None:
    conn = _conn(server)
    answer = conn.request("GET", "/until-close", None, {}, 5)
    assert (answer.body, answer.will_close, conn.sock) == (b"all of it", True, None)
    kept = conn.request("GET", "/close-after", None, {}, 5)  # says nothing, then closes
    assert kept.body == b"ok" and conn.sock is not None
    for _ in range(100):  # the server's close reaches this side
        if conn.idle_closed():
            break
        threading.Event().wait(0.02)
    assert conn.idle_closed()
    again = conn.request("POST", "/length", b"{}", {}, 5)  # a new connection, not a broken pipe
    assert again.body == b"{}" and server.connections == 3
    conn.close()


def test_a_connection_idle_for_max_idle_is_replaced_before_the_request(server: _Server) -> None:
    opened: list[int] = []
    conn = HttpConnection(
        "127.0.0.1", server.server_address[1], timeout=5, max_idle=0.3, on_connect=lambda: opened.append(1)
    )
    conn.request("GET", "/length", None, {}, 5)
    conn.request("GET", "/length", None, {}, 5)  # at once: the same connection
    assert (len(opened), server.connections) == (1, 1) and not conn.idle_closed()
    threading.Event().wait(0.35)
    assert conn.idle_closed()  # the server still holds it open; this side no longer trusts it
    assert conn.request("GET", "/length", None, {}, 5).status == 200
    assert (len(opened), server.connections) == (2, 2)
    conn.close()


def test_the_agent_lets_go_of_an_idle_connection_before_the_collector_does(tmp_path: Path) -> None:
    """Defaults: an agent pushes more often than it keeps an idle connection, and it lets go of one
    before `checkd serve` closes it, so neither waits on the other's close."""
    from checkd.agent.collector import MAX_IDLE_S
    from checkd.agent.options import parse_options
    from checkd.config import ServerSettings

    (tmp_path / "token").write_text("t")
    options = parse_options(["--collector", "http://127.0.0.1:9", "--token-file", str(tmp_path / "token")])
    assert options.push_every * 2 <= MAX_IDLE_S <= ServerSettings().keep_alive - 5


def test_what_is_not_http_is_a_bad_response_and_nothing_listening_an_os_error(server: _Server) -> None:
    conn = _conn(server)
    with pytest.raises(BadResponse, match="status line"):
        conn.request("GET", "/garbage", None, {}, 5)
    assert conn.sock is None
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(OSError):
        HttpConnection("127.0.0.1", port, timeout=5).request("GET", "/", None, {}, 5)
