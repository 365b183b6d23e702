"""Freshness everywhere: every panel's values say how old they are, those read less often than the
newest check too (the sampler's counters, the services, the top processes, the alerts)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from checkd_process import CheckdProcess

from .helpers import Page, wait_ticks

pytestmark = pytest.mark.browser

AGE = r"\d+ s ago"


def seconds(text: str) -> int:
    """The seconds in the last "12 s ago" of `text`."""
    found = re.findall(r"(\d+) s ago", text)
    assert found, text
    return int(found[-1])


def test_values_read_less_often_than_the_newest_check_show_their_age(
    server: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(server)
    page = p.page
    wait_ticks(page, 2)
    note = page.inner_text("#sampler-note")
    # the counters are read every 30 s, the newest check on every refresh: each says how old it is
    assert re.search(rf"last check {AGE} .* checks?, \d+ errors? since start, counted {AGE}$", note), note
    for panel in ("services", "processes", "alerts"):
        text = page.inner_text(f"#{panel}-read")
        assert re.fullmatch(rf"· read {AGE}", text), (panel, text)
    before = seconds(note)
    time.sleep(3)  # the counters are not read again within 30 s: their age grows meanwhile
    assert page.inner_text("#sampler-note").count("counted") == 1
    assert seconds(page.inner_text("#sampler-note")) >= before + 2
    p.shot("freshness-ages")
    assert p.errors == [], p.errors
