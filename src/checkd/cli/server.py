"""`checkd serve`'s body: open the monitor, build the app, run uvicorn until a signal."""

from __future__ import annotations

import asyncio
import ctypes
import gc
from types import FrameType

import typer
import uvicorn

from checkd.api.app import create_app
from checkd.auth import TokenError, ensure_token
from checkd.cli.common import fail
from checkd.config import Settings
from checkd.db import DatabaseError
from checkd.monitor import Monitor

TICK_S = 0.5
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


class GracefulServer(uvicorn.Server):
    """Exit 0 after a graceful SIGTERM/SIGINT shutdown (uvicorn would re-raise the signal)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Start the graceful shutdown, without re-raising the signal afterwards."""
        super().handle_exit(sig, frame)
        self._captured_signals.clear()

    async def main_loop(self) -> None:
        """uvicorn's housekeeping loop, waking twice a second instead of ten times (idle CPU).

        Each tick refreshes the Date header (counter 0) and notices a requested shutdown."""
        freeze_startup_objects()
        should_exit = await self.on_tick(0)
        while not should_exit:
            await asyncio.sleep(TICK_S)
            should_exit = await self.on_tick(0)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (like MALLOC_ARENA_MAX); False where libc has no mallopt."""
    # glibc gives each thread that allocates its own arena, up to 8 per core; under load the
    # server runs up to ~40 threads (anyio's threadpool, sampler, upkeep, libuv) and those
    # arenas kept 5-15 MiB more RSS after a wrk run (docs/PERFORMANCE.md). Call it before any
    # thread starts; idle RSS does not change.
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter is linked with
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def freeze_startup_objects() -> None:
    """Collect once, then keep everything alive now out of the cyclic GC's full collections.

    A served process holds ~100 k objects from its imports and app; every full (gen2) collection
    walked them all: 36-62 ms of CPU each on this 2-core VM, the first one landing in the upkeep
    thread's first rollup fold a minute after start (~1 ms per check over that minute). Objects
    created later are still collected as before; start-up objects freed by reference counting
    are still freed (only start-up cycles that become garbage later are never collected).
    """
    gc.collect()
    gc.freeze()


def run_server(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT; the lifespan joins the sampler and flushes its queue."""
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
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=15,
    )
    GracefulServer(config).run()
