"""The tcp endpoint check: open a connection to host:port within the timeout, and close it."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from checkd.endpoints.lookup import BoundedLookup, Resolver, system_resolver
from checkd.endpoints.outcome import describe_error
from checkd.probes.readings import EndpointResult


@dataclass(frozen=True)
class TcpTarget:
    """What one tcp check asks for."""

    name: str
    host: str
    port: int
    timeout_s: float


class TcpProbe:
    """Runs one tcp check (name resolution is part of the run, as it is for a client, and of its
    timeout)."""

    kind = "tcp"

    def __init__(self, target: TcpTarget, *, resolve: Resolver = system_resolver) -> None:
        self.target = target
        self._lookup = BoundedLookup(resolve)

    def _connect(self, deadline: float) -> None:
        """Open and close a connection to the first address that answers, all by `deadline`."""
        t = self.target
        failure: OSError | None = None
        for address in self._lookup(t.host, t.port, deadline - time.monotonic()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            try:
                with socket.create_connection((address, t.port), timeout=left):
                    return
            except OSError as exc:  # the next address may answer
                failure = exc
        raise failure or OSError(f"{t.host} has no address")

    def run(self) -> EndpointResult:
        """One connect: up when it opens; never raises."""
        t = self.target
        started_at = time.time()
        started = time.perf_counter()
        try:
            self._connect(time.monotonic() + t.timeout_s)
            latency_ms = round((time.perf_counter() - started) * 1000, 3)
        except Exception as exc:  # every failure of a run is its result: down, with the reason
            return EndpointResult(
                name=t.name, kind=self.kind, up=False, checked_at=started_at, error=describe_error(exc)
            )
        return EndpointResult(
            name=t.name, kind=self.kind, up=True, checked_at=started_at, latency_ms=latency_ms
        )

    def close(self) -> None:
        """Nothing is held between runs."""
