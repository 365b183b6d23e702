"""Fixtures for notification tests: local receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from notify.receiver import Receiver


@pytest.fixture
def receivers() -> Iterator[Callable[[], Receiver]]:
    """Factory of started receivers; all are stopped at teardown."""
    made: list[Receiver] = []

    def make() -> Receiver:
        receiver = Receiver().start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()
