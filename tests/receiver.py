"""A real HTTP receiver on 127.0.0.1 for notification tests: records POSTs, can fail, hang or be down."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from checkd_process import free_port


class Receiver:
    """Answers `status` after `delay` seconds to every request; `start`/`stop` bring it up and down."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.delay = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The receiver's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        """Listen (again) on the same port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(receiver.delay)
                with receiver._lock:
                    if receiver.status < 300:
                        receiver.requests.append((self.path, dict(self.headers.items()), body))
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a hanging-receiver test)

            def log_message(self, *_args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are refused until `start`)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self) -> list[Any]:
        """The JSON bodies of the accepted requests, in arrival order."""
        with self._lock:
            return [json.loads(body) for _, _, body in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Any]:
        """Wait until `count` requests were accepted; return their bodies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return self.bodies()
            time.sleep(0.02)
        raise AssertionError(f"{len(self.requests)} of {count} requests arrived in {timeout}s")
