"""A check's name lookup, bounded by what is left of its timeout (getaddrinfo itself cannot be)."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

# host, port -> the addresses to try, in order; raises socket.gaierror when the name does not resolve.
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system's resolver (getaddrinfo), each once, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class NameLookupTimeout(TimeoutError):
    """The name lookup did not answer within the check's timeout; the message says so."""


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class BoundedLookup:
    """Resolves a check's host in a helper thread and waits for it only until the run's deadline.

    A lookup that outlives its run is left to finish on its own (a blocking getaddrinfo cannot be
    interrupted); while it runs, later runs fail at once instead of starting another, so a hanging
    resolver holds at most one thread per check."""

    def __init__(self, resolve: Resolver = system_resolver) -> None:
        self._resolve = resolve
        self._running: Future[list[str]] | None = None

    def __call__(self, host: str, port: int, timeout_s: float) -> list[str]:
        """`host`'s addresses (an address literal is itself); NameLookupTimeout after `timeout_s`."""
        if _is_address(host.strip("[]")):
            return [host.strip("[]")]
        if self._running is not None and not self._running.done():
            raise NameLookupTimeout(f"name lookup of {host} still running since an earlier run")
        answer: Future[list[str]] = Future()
        self._running = answer

        def resolve() -> None:
            try:
                answer.set_result(self._resolve(host, port))
            except BaseException as exc:  # handed to the waiting run, which reports it
                answer.set_exception(exc)

        threading.Thread(target=resolve, name="checkd-lookup", daemon=True).start()
        try:
            return answer.result(timeout=max(0.0, timeout_s))
        except FutureTimeout:
            pass  # raised below, outside this handler, so that the timeout is the error's root cause
        raise NameLookupTimeout(f"name lookup of {host} timed out")
