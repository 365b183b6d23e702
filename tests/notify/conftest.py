"""Fixtures for notification tests: local receivers and a real Alertmanager."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from checkd.config_alerts import NotifyTargetSettings
from checkd.control import CommandRunner
from checkd.notify import Delivery, Target, build_targets
from notify.alertmanager import Alertmanager
from notify.helpers import HOST, OWN_URL


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    """Debian's Alertmanager, started for this test."""
    am = Alertmanager(tmp_path).start()
    yield am
    am.stop()


@pytest.fixture
def deliveries(sqlite_engine: Engine) -> Iterator[Callable[..., Delivery]]:
    """Factory of started Delivery threads on the test's store; stopped at teardown."""
    made: list[Delivery] = []

    def make(*settings: NotifyTargetSettings, max_backoff_s: float = 0.5) -> Delivery:
        targets: list[Target] = build_targets(list(settings), CommandRunner(), OWN_URL)
        delivery = Delivery(engine=sqlite_engine, host=HOST, targets=targets, max_backoff_s=max_backoff_s)
        delivery.start()
        made.append(delivery)
        return delivery

    yield make
    for delivery in made:
        delivery.stop()
