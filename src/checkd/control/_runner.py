"""The one subprocess runner: argv lists, clean env, own process group, timeout, bounded output."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CLEAN_ENV: Mapping[str, str] = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
OUTPUT_LIMIT = 4096  # bytes of output kept: the last 4 KiB
_KEEP = 64 * 1024  # buffer grows to this before it is trimmed to OUTPUT_LIMIT
_DRAIN_MAX = 1 << 20  # bytes read per wake-up, so a flood cannot starve the deadline check
_POLL_S = 0.005  # wake-up interval when pidfd_open is unavailable


@dataclass(frozen=True)
class RunResult:
    """What one command run gave: exit code (None when killed or never started), output and timing."""

    exit_code: int | None
    output: str
    timed_out: bool
    duration_s: float
    missing_binary: bool = False
    pid: int | None = None


def decode_output(raw: bytes, truncated: bool = False) -> str:
    """Decode command output as UTF-8 with replacement characters; NUL becomes U+FFFD too."""
    if truncated:
        # Do not start in the middle of a multi-byte character.
        skip = 0
        while skip < 3 and skip < len(raw) and raw[skip] & 0xC0 == 0x80:
            skip += 1
        raw = raw[skip:]
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class CommandRunner:
    """Runs argv lists (never a shell) with a clean environment, a timeout and a process-group kill."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env: dict[str, str] = dict(CLEAN_ENV if env is None else env)

    def run(self, argv: Sequence[str], timeout: float, stdin: bytes | None = None) -> RunResult:
        """Run `argv` for at most `timeout` seconds; on timeout SIGKILL its whole process group.

        `stdin`, when given, is what the command reads on its standard input (up to a pipe's
        buffer, 64 KiB on Linux; the rest is cut so a command that never reads cannot block us)."""
        args = list(argv)
        if not args or not all(isinstance(a, str) for a in args):
            raise ValueError("argv must be a non-empty list of strings")
        started = time.monotonic()
        try:
            proc = subprocess.Popen(  # argv list, never a shell
                args,
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd="/",
                close_fds=True,
                start_new_session=True,
            )
        except FileNotFoundError:
            elapsed = time.monotonic() - started
            return RunResult(None, f"`{args[0]}` not found", False, elapsed, missing_binary=True)
        except OSError as exc:
            elapsed = time.monotonic() - started
            return RunResult(None, f"cannot run `{args[0]}`: {exc.strerror or exc}", False, elapsed)
        if proc.stdin is not None:
            self._feed(proc.stdin.fileno(), stdin or b"")
            proc.stdin.close()
        buf, total, timed_out = self._collect(proc, started + timeout)
        truncated = total > OUTPUT_LIMIT
        output = decode_output(bytes(buf[-OUTPUT_LIMIT:]), truncated)
        exit_code = None if timed_out else proc.returncode
        elapsed = time.monotonic() - started
        return RunResult(exit_code, output, timed_out, elapsed, pid=proc.pid)

    def _collect(self, proc: subprocess.Popen[bytes], deadline: float) -> tuple[bytearray, int, bool]:
        """Read output until the child exits (not until EOF: a daemon may keep the pipe) or the deadline."""
        assert proc.stdout is not None
        pipe = proc.stdout.fileno()
        os.set_blocking(pipe, False)
        buf = bytearray()
        total = 0
        timed_out = False
        sel = selectors.DefaultSelector()
        pidfd: int | None = None
        try:
            try:
                pidfd = os.pidfd_open(proc.pid)
                sel.register(pidfd, selectors.EVENT_READ)
            except (AttributeError, OSError):
                pidfd = None
            sel.register(pipe, selectors.EVENT_READ)
            pipe_open = True
            while proc.poll() is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                if pidfd is None:
                    remaining = min(remaining, _POLL_S)
                for key, _ in sel.select(remaining):
                    if key.fd == pipe and pipe_open:
                        total, pipe_open = self._drain(pipe, buf, total)
                        if not pipe_open:
                            sel.unregister(pipe)
            if timed_out:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            total, _ = self._drain(pipe, buf, total)
        finally:
            sel.close()
            if pidfd is not None:
                os.close(pidfd)
            proc.stdout.close()
        return buf, total, timed_out

    @staticmethod
    def _feed(fd: int, data: bytes) -> None:
        """Write what fits in the pipe without blocking; a child that exited early is no error."""
        os.set_blocking(fd, False)
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(fd, data)

    @staticmethod
    def _drain(fd: int, buf: bytearray, total: int) -> tuple[int, bool]:
        """Read what is ready (at most 1 MiB) without blocking; return the new total, whether still open."""
        stop_at = total + _DRAIN_MAX
        while total < stop_at:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return total, True
            except OSError:
                return total, False
            if not chunk:
                return total, False
            total += len(chunk)
            buf.extend(chunk)
            if len(buf) > _KEEP:
                del buf[:-OUTPUT_LIMIT]
        return total, True
