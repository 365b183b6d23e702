"""Service states and the cheap readers behind them: LSB codes, pidfiles, /proc and process matches."""

from __future__ import annotations

import os
from pathlib import Path

from checkd.vocabulary import ServiceState

_LSB_STATES = {
    0: ServiceState.ACTIVE,
    1: ServiceState.FAILED,  # dead, pidfile left
    2: ServiceState.FAILED,  # dead, lock file left
    3: ServiceState.INACTIVE,
    4: ServiceState.UNKNOWN,
}


def state_from_lsb(code: int | None) -> ServiceState:
    """Map an LSB `status` exit code to a state (0 active; 1, 2 failed; 3 inactive; else unknown)."""
    if code is None:
        return ServiceState.UNKNOWN
    return _LSB_STATES.get(code, ServiceState.UNKNOWN)


def _read(path: str | Path, size: int) -> bytes:
    """Read up to `size` bytes with raw os calls (several times cheaper than open() on this hot path)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def read_pid(pidfile: Path) -> int | None:
    """The pid in `pidfile`, or None when it is missing; raises ValueError when it holds no valid pid."""
    try:
        raw = _read(pidfile, 64)
    except (FileNotFoundError, NotADirectoryError):
        return None
    text = raw.split(b"\n", 1)[0].strip()
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{pidfile}: no pid in {raw[:20]!r}")
    return int(text)


def pid_alive(pid: int) -> bool:
    """True when /proc/<pid> exists and the process is not a zombie (or dead)."""
    try:
        stat = _read(f"/proc/{pid}/stat", 512)
    except (FileNotFoundError, ProcessLookupError):
        return False
    # Field 3 follows the last ')' of the command name: Z zombie, X dead.
    tail = stat[stat.rfind(b")") + 2 :]
    return tail[:1] not in (b"Z", b"X")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            raw = fh.read()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def pidfile_state(pidfile: Path, match: str | None = None) -> ServiceState:
    """State from a pidfile plus /proc: live -> active, stale -> failed, absent -> inactive.

    When `match` is given, the live pid must also have it in its command line
    (a guard against a recycled pid); otherwise the pidfile counts as stale.
    """
    try:
        pid = read_pid(pidfile)
    except ValueError:
        return ServiceState.UNKNOWN  # empty or half-written: the next read decides
    except OSError:
        return ServiceState.UNKNOWN  # e.g. permission denied
    if pid is None:
        return ServiceState.INACTIVE
    if not pid_alive(pid):
        return ServiceState.FAILED
    if match is not None and match not in _cmdline(pid):
        return ServiceState.FAILED
    return ServiceState.ACTIVE


def match_state(match: str) -> ServiceState:
    """Active when a live process (not this one) has `match` in its command line, else inactive."""
    import psutil  # here only: the fleet agent loads it when a service is matched by command line

    own = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        info = proc.info
        if info["pid"] == own or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline = info["cmdline"]
        if cmdline and match in " ".join(cmdline):
            return ServiceState.ACTIVE
    return ServiceState.INACTIVE
