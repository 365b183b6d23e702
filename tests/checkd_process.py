"""The one test helper that runs a real `checkd serve` subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

CHECKD = [sys.executable, "-m", "checkd"]

# A config section for a service whose every command fails at once (start answers 502).
BROKEN_SERVICE_CONFIG = """
[services.broken]
backend = "command"
start = ["/bin/false"]
stop = ["/bin/false"]
status = ["/bin/false"]
timeout = 5
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bearer(token: str) -> dict[str, str]:
    """Headers carrying `token` (an API or ingest token)."""
    return {"Authorization": f"Bearer {token}"}


class CheckdProcess:
    """`checkd serve` with its own data dir and port; stopped by pid."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        interval: int | None = 1,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        command: tuple[str, ...] = (),
        cwd: Path | None = None,
        tls_ca: Path | None = None,
    ) -> None:
        """`command` (e.g. `make run`, in `cwd`) replaces `checkd serve ...`: it must serve this data
        dir and port (e.g. through CHECKD_* env); signals go to the processes it started."""
        self.data_dir = data_dir
        self.command = command
        self.cwd = cwd
        self.scheme = "https" if tls_ca is not None else "http"
        self.port = port or free_port()
        self.interval = interval
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-{self.port}.log"
        # With TLS, the client verifies the server's certificate against `tls_ca` (no system CAs).
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=tls_ca) if tls_ca else True
        self.client = httpx.Client(base_url=self.url(""), timeout=30, trust_env=False, verify=verify)

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    @property
    def token(self) -> str:
        """The API token the server generated into its data dir."""
        return (self.data_dir / "api-token").read_text().strip()

    def auth(self) -> dict[str, str]:
        """Headers carrying the token."""
        return bearer(self.token)

    def start(self, *, wait: bool = True, timeout: float = 30) -> CheckdProcess:
        """Launch the process and (by default) wait until /healthz answers."""
        cmd = [*CHECKD, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)]
        if self.interval is not None:
            cmd += ["--interval", str(self.interval)]
        cmd += list(self.args)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            list(self.command) or cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
        )
        if wait:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 30) -> dict[str, Any]:
        """Poll /healthz until it answers 200; fail with the server log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"checkd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                r = self.client.get("/healthz")
                if r.status_code == 200:
                    return dict(r.json())
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"checkd did not become healthy in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, **kw: Any) -> httpx.Response:
        """GET `path`."""
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        """POST `path`."""
        return self.client.post(path, **kw)

    def wait_for(self, predicate: Any, timeout: float = 15, step: float = 0.2) -> Any:
        """Poll `predicate()` until it returns something truthy; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(step)
        raise AssertionError(f"condition not met in {timeout}s:\n{self.log()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send `sig` to the pid and wait for it to exit; return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self._signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait()
            raise AssertionError(f"checkd ignored signal {sig} for {timeout}s:\n{self.log()}") from None

    def _signal(self, sig: int) -> None:
        """Signal the server: with `command`, the processes under it (so `make` reaps them and exits)."""
        assert self.proc is not None
        targets = psutil.Process(self.proc.pid).children(recursive=True) if self.command else []
        for child in targets:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(sig)
        if not targets or sig == signal.SIGKILL:
            self.proc.send_signal(sig)

    def close(self) -> None:
        """Stop the process if it still runs, and the HTTP client."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.stop(signal.SIGKILL if os.environ.get("CHECKD_TEST_FAST_KILL") else signal.SIGTERM)
        finally:
            self.client.close()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `checkd ARGS...` to completion and capture its output (never raises on exit status)."""
    return subprocess.run(
        [*CHECKD, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
