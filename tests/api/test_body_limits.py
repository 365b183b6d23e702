"""Request bodies against a real server: the token is checked before a body is read; bodies are limited."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psutil
import pytest

from checkd_process import CheckdProcess

MIB = 1024 * 1024
BIG = 200 * MIB


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CheckdProcess]:
    """One server with the default 1 MiB limit (stopped by pid at the end)."""
    server = CheckdProcess(tmp_path_factory.mktemp("bodies") / "data")
    try:
        yield server.start()
    finally:
        server.close()


@dataclass
class RawAnswer:
    """What a hand-written HTTP/1.1 request got back."""

    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the server took before it answered


def raw_request(port: int, head: str, body: Callable[[], Iterator[bytes]], timeout: float = 60) -> RawAnswer:
    """Send `head`, then `body` chunk by chunk until the server answers; parse the answer."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        try:
            for chunk in body():
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:  # the server answered before the body was complete
                    break
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in data and time.monotonic() < deadline:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        head_part, _, rest = data.partition(b"\r\n\r\n")
        lines = head_part.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length and time.monotonic() < deadline:
            part = sock.recv(65536)
            if not part:
                break
            rest += part
    return RawAnswer(status=int(lines[0].split()[1]), headers=headers, body=rest, sent=sent)


def zeros(total: int, chunk: int = MIB) -> Callable[[], Iterator[bytes]]:
    """A body of `total` zero bytes, in `chunk`-sized pieces."""

    def gen() -> Iterator[bytes]:
        block = b"0" * chunk
        for _ in range(total // chunk):
            yield block

    return gen


def chunked(total: int, chunk: int = MIB) -> Callable[[], Iterator[bytes]]:
    """The same, in Transfer-Encoding: chunked framing (without the final zero chunk)."""

    def gen() -> Iterator[bytes]:
        block = b"%x\r\n" % chunk + b"0" * chunk + b"\r\n"
        for _ in range(total // chunk):
            yield block

    return gen


def put_head(port: int, *, length: int | None, token: str | None) -> str:
    lines = ["PUT /api/v2/sampler HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n\r\n"


def rss(server: CheckdProcess) -> int:
    assert server.proc is not None
    return int(psutil.Process(server.proc.pid).memory_info().rss)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"], ids=["no-token", "wrong-token"])
def test_a_200_mib_body_without_a_valid_token_is_401_before_it_is_read(
    srv: CheckdProcess, framing: str, token: str | None
) -> None:
    before = rss(srv)
    length = BIG if framing == "content-length" else None
    body = zeros(BIG) if length is not None else chunked(BIG)
    answer = raw_request(srv.port, put_head(srv.port, length=length, token=token), body)
    assert answer.status == 401, answer
    assert json.loads(answer.body)["detail"].startswith("Authorization:")
    assert answer.sent < BIG // 2, f"the server read {answer.sent} bytes before answering"
    assert rss(srv) - before < 20 * MIB, f"RSS grew from {before} to {rss(srv)}"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_1_mib_is_413_naming_body_even_with_the_token(srv: CheckdProcess, framing: str) -> None:
    before = rss(srv)
    length = BIG if framing == "content-length" else None
    body = zeros(BIG) if length is not None else chunked(BIG)
    answer = raw_request(srv.port, put_head(srv.port, length=length, token=srv.token), body)
    assert answer.status == 413, answer
    detail = json.loads(answer.body)["detail"]
    assert detail.startswith("body: ") and "1048576" in detail and "server.max_body" in detail
    assert answer.sent < BIG // 2
    assert rss(srv) - before < 20 * MIB


def test_a_body_just_under_1_mib_is_read(srv: CheckdProcess) -> None:
    body = json.dumps({"interval_s": 1}).encode() + b" " * (MIB - 100)
    r = srv.client.put(
        "/api/v2/sampler", content=body, headers={**srv.auth(), "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["interval_s"] == 1


def test_a_body_just_over_1_mib_is_413(srv: CheckdProcess) -> None:
    body = json.dumps({"interval_s": 1}).encode() + b" " * MIB
    r = srv.client.put(
        "/api/v2/sampler", content=body, headers={**srv.auth(), "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["detail"].startswith("body: larger than 1048576 bytes")


def test_the_limit_follows_server_max_body(make_server: Callable[..., CheckdProcess]) -> None:
    server = make_server(env={"CHECKD_SERVER__MAX_BODY": "2048"})
    headers = {**server.auth(), "Content-Type": "application/json"}
    ok = server.client.put("/api/v2/sampler", content=b'{"interval_s": 2}' + b" " * 1900, headers=headers)
    assert ok.status_code == 200, ok.text
    r = server.client.put("/api/v2/sampler", content=b'{"interval_s": 2}' + b" " * 2100, headers=headers)
    assert r.status_code == 413
    assert "larger than 2048 bytes" in r.json()["detail"]


def test_a_bodyless_request_needs_no_token_where_the_route_is_open(srv: CheckdProcess) -> None:
    """The gate only guards bodies: open reads and 404s answer as before."""
    assert srv.get("/api/v2/sampler").status_code == 200
    assert srv.get("/nope").status_code == 404
