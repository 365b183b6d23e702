"""Verification after an action: an immediate first read, short growing intervals, bounded by the deadline."""

from __future__ import annotations

import time

from checkd.control import ServiceState
from checkd.control._action import POLL_MAX_S, STOPPED, wait_for_state


class Reader:
    """Returns INACTIVE until the n-th read, then ACTIVE; records when each read happened."""

    def __init__(self, active_from: int) -> None:
        self.active_from = active_from
        self.times: list[float] = []

    def __call__(self) -> ServiceState:
        self.times.append(time.monotonic())
        return ServiceState.ACTIVE if len(self.times) >= self.active_from else ServiceState.INACTIVE


def test_first_read_is_immediate() -> None:
    reader = Reader(active_from=1)
    started = time.monotonic()
    assert wait_for_state(reader, frozenset({ServiceState.ACTIVE}), started + 10) is ServiceState.ACTIVE
    assert len(reader.times) == 1
    assert time.monotonic() - started < 0.005


def test_polls_at_short_growing_intervals() -> None:
    reader = Reader(active_from=8)
    started = time.monotonic()
    assert wait_for_state(reader, frozenset({ServiceState.ACTIVE}), started + 10) is ServiceState.ACTIVE
    gaps = [b - a for a, b in zip(reader.times, reader.times[1:], strict=False)]
    assert gaps[0] < 0.03  # the second read comes quickly
    assert max(gaps) < POLL_MAX_S + 0.03
    assert time.monotonic() - started < 0.5


def test_gives_up_at_the_deadline_with_the_last_state() -> None:
    reader = Reader(active_from=10**9)
    started = time.monotonic()
    assert wait_for_state(reader, frozenset({ServiceState.ACTIVE}), started + 0.3) is ServiceState.INACTIVE
    assert 0.3 <= time.monotonic() - started < 0.4


def test_not_found_never_counts_as_stopped() -> None:
    started = time.monotonic()
    state = wait_for_state(lambda: ServiceState.NOT_FOUND, STOPPED, started + 0.1)
    assert state is ServiceState.NOT_FOUND
