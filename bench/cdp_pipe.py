"""A headless chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe).

Only the domains a caller sends are used: unlike Playwright, which enables the Network domain on every
page (so DevTools keeps a record of each request, in the page's process, until its 100 MB buffer is
full), this adds nothing to the page's heap that a heap measurement would count.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import tempfile
from typing import Any

_IN_FD, _OUT_FD = 3, 4  # chromium reads commands from fd 3 and writes answers to fd 4


def _above_4(fds: tuple[int, int]) -> tuple[int, int]:
    """The pipe `fds` moved above fd 4, so putting them on fds 3 and 4 in the child clobbers neither."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved[0], moved[1]


class CdpError(RuntimeError):
    """An error answer from chromium."""


class Chromium:
    """A headless chromium process and its browser-level CDP connection."""

    def __init__(self, executable: str, args: list[str]) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="checkd-bench-chromium-")
        to_child, self._write = _above_4(os.pipe())
        self._read, from_child = _above_4(os.pipe())

        # bash puts the pipe ends on the fds chromium expects, then becomes chromium (no preexec_fn).
        redirect = f'exec "$@" {_IN_FD}<&{to_child} {_OUT_FD}>&{from_child} {to_child}<&- {from_child}>&-'
        command = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile.name}",
            *args,
        ]
        self.proc = subprocess.Popen(
            ["bash", "-c", redirect, "bash", *command],
            pass_fds=(to_child, from_child),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> dict[str, Any]:
        """Send one command (to a page's `session`, else the browser) and wait for its answer."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == self._next_id:  # events and other answers are not waited for
                if "error" in answer:
                    raise CdpError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise CdpError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def new_page(self, url: str, width: int, height: int) -> str:
        """A page on `url` in a browser context of its own; its CDP session id."""
        context = self.send("Target.createBrowserContext")["browserContextId"]
        target = self.send(
            "Target.createTarget",
            {"url": "about:blank", "browserContextId": context, "width": width, "height": height},
        )["targetId"]
        session: str = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.navigate", {"url": url}, session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        """The value of JavaScript `expression` in the page of `session`."""
        return self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)[
            "result"
        ].get("value")

    def close(self) -> None:
        """Close the browser (kill it if it does not exit) and remove its profile."""
        with contextlib.suppress(CdpError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)
        self._profile.cleanup()
