"""How late this machine runs a thread that asks to wake: the load's toll on wall-time bounds."""

from __future__ import annotations

import threading
import time
from types import TracebackType

TICK_S = 0.005


class SchedulingDelay:
    """A thread that sleeps TICK_S again and again while the `with` block runs; `worst_s` is the
    longest it woke late. A quiet machine wakes it within a millisecond or two; a loaded one (more
    runnable threads than cores) late by as long as the threads ahead of it run."""

    def __init__(self) -> None:
        self.worst_s = 0.0
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduling-delay", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.monotonic()
            time.sleep(TICK_S)
            self.worst_s = max(self.worst_s, time.monotonic() - before - TICK_S)
            self.ticks += 1

    def __enter__(self) -> SchedulingDelay:
        self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
