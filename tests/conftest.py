"""Shared fixtures: a real checkd server on a loopback port with a temp data dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checkd_process import CheckdProcess


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., CheckdProcess]]:
    """Factory for started `checkd serve` processes; every one is stopped at teardown."""
    started: list[CheckdProcess] = []

    def make(data_dir: Path | None = None, **kw: Any) -> CheckdProcess:
        server = CheckdProcess(data_dir or tmp_path / f"data{len(started)}", **kw)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.close()


@pytest.fixture
def server(make_server: Callable[..., CheckdProcess]) -> CheckdProcess:
    """One running server sampling every second."""
    return make_server()
