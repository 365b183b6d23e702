"""Rates from cumulative kernel counters, per device, between two reads of the same probe."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

Rates = tuple[float | None, ...]


class CounterRates:
    """Per-second rates of each device's counters since its previous read.

    A device's first read has no rate (None). A counter that went down since the previous read
    (a 32-bit wrap, a driver reset, a device removed and created again) gives None for that
    counter in that read, never a huge spike; the next read has a rate again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, tuple[float, Sequence[int]]] = {}

    def update(self, device: str, counters: Sequence[int]) -> Rates:
        """Remember `counters` for `device` and return their rates since its previous read."""
        now = self._clock()
        previous = self._last.get(device)
        self._last[device] = (now, counters)
        if previous is None:
            return tuple(None for _ in counters)
        then, before = previous
        elapsed = now - then
        if elapsed <= 0 or len(before) != len(counters):
            return tuple(None for _ in counters)
        return tuple(
            [
                (after - earlier) / elapsed if after >= earlier else None
                for earlier, after in zip(before, counters, strict=True)
            ]
        )

    def keep_only(self, devices: set[str]) -> None:
        """Forget devices not read this time, so one that comes back starts without a rate."""
        for gone in self._last.keys() - devices:
            del self._last[gone]
