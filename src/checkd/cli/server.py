"""`checkd serve`'s body: open the monitor, build the app, run uvicorn until a signal."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import ipaddress
import signal
import ssl
from types import FrameType

import typer
import uvicorn

from checkd.api.app import create_app
from checkd.auth import TokenError, ensure_token
from checkd.cli.common import fail
from checkd.config import ServerSettings, Settings
from checkd.db import DatabaseError
from checkd.monitor import Monitor

TICK_S = 0.5
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


class GracefulServer(uvicorn.Server):
    """uvicorn's server with a slower housekeeping tick."""

    async def main_loop(self) -> None:
        """uvicorn's housekeeping loop, waking twice a second instead of ten times (idle CPU).

        Each tick refreshes the Date header (counter 0) and notices a requested shutdown."""
        freeze_startup_objects()
        should_exit = await self.on_tick(0)
        while not should_exit:
            await asyncio.sleep(TICK_S)
            should_exit = await self.on_tick(0)


def exit_after_graceful_shutdown() -> None:
    """Make SIGTERM/SIGINT end the process with status 0 once uvicorn has shut down gracefully.

    uvicorn handles the signals while it serves, then restores the handlers it found and raises
    the signal again; the handlers found are these, which exit 0 instead of dying by the signal."""

    def exit_zero(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, exit_zero)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (like MALLOC_ARENA_MAX); False where libc has no mallopt."""
    # glibc gives each thread that allocates its own arena, up to 8 per core; under load the
    # server runs dozens of threads under load (anyio's threadpool, sampler, upkeep, libuv) and
    # those arenas keep memory after a burst (docs/PERFORMANCE.md). Call it before any thread
    # starts; idle RSS does not change.
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter is linked with
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def freeze_startup_objects() -> None:
    """Collect once, then keep everything alive now out of the cyclic GC's full collections.

    A served process holds a large, long-lived set of objects from its imports and app; every
    full (gen2) collection walked them all, the first one landing in the upkeep thread's first
    rollup fold a minute after start, inside the sampler's CPU budget. Objects created later are
    still collected as before; start-up objects freed by reference counting are still freed
    (only start-up cycles that become garbage later are never collected).
    """
    gc.collect()
    gc.freeze()


def is_loopback(host: str) -> bool:
    """True when binding `host` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def transport_refusal(server: ServerSettings) -> str | None:
    """Why `server` may not be served as configured (one line naming the key), or None."""
    if server.tls_cert is not None and server.tls_key is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                server.tls_cert, server.tls_key
            )
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            return f"server.tls_cert/tls_key: cannot load {server.tls_cert} and {server.tls_key}: {reason}"
        return None
    if is_loopback(server.host) or server.allow_plaintext:
        return None
    return (
        f"server.host: {server.host} is not a loopback address; set server.tls_cert and "
        "server.tls_key, or server.allow_plaintext = true to serve plain HTTP"
    )


def run_server(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT; the lifespan joins the sampler and flushes its queue."""
    refusal = transport_refusal(settings.server)
    if refusal is not None:
        fail(refusal)
    limit_malloc_arenas()
    try:
        token, generated = ensure_token(settings)
        monitor = Monitor(settings)
        # The app first: its /metrics listeners must see the check the sampler takes on opening.
        app = create_app(monitor, token=token)
        if monitor.engine.dialect.name == "sqlite":
            monitor.open()  # an embedded database either opens now or start-up stops with the reason
    except (TokenError, DatabaseError) as exc:
        fail(str(exc))
    if generated:
        typer.echo(
            f"checkd: generated an API token, saved to {settings.token_path} (mode 0600):\n{token}", err=True
        )
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,  # no "server: uvicorn" on every answer (an open dashboard reads many small ones)
        # The standard asyncio loop, not uvloop: uvloop's module, its libuv and libuv's worker
        # threads cost resident memory for a speed the served routes do not need (their goals hold
        # on asyncio; docs/PERFORMANCE.md).
        loop="asyncio",
        http="httptools",
        ws="none",  # no WebSocket routes: never import the websockets protocol stack
        timeout_graceful_shutdown=15,
        timeout_keep_alive=settings.server.keep_alive,
        ssl_certfile=settings.server.tls_cert,
        ssl_keyfile=settings.server.tls_key,
    )
    exit_after_graceful_shutdown()
    GracefulServer(config).run()
