"""The drift-free schedule shared by the sampler and the fleet agent: fixed slots, missed ones skipped."""

from __future__ import annotations

import math


def next_slot(slot: float, now: float, interval: float) -> tuple[float, int]:
    """The first slot after `slot` still ahead of `now`, and how many slots were passed over
    (counted, never bunched: a late check does not make the next ones come quicker)."""
    nxt = slot + interval
    if nxt > now:
        return nxt, 0
    skipped = math.floor((now - nxt) / interval) + 1
    return nxt + skipped * interval, skipped
