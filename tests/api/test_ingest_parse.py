"""The ingest route's body parsing (no server): the fast JSON parser reads what json reads, exactly."""

from __future__ import annotations

import json
import random

import pytest
from fastapi import HTTPException

from agent_process import pushed_checks
from checkd.api.routes.ingest import parse_checks
from checkd.probes.wire import from_wire


def test_a_batch_parses_to_exactly_what_json_and_from_wire_give() -> None:
    rng = random.Random(13)
    batch = pushed_checks("web1", range(1, 501))
    for item in batch:
        item["cpu"] = rng.uniform(0, 100)
        item["memory"]["percent"] = rng.random() * 100
        item["load"]["load1"] = rng.expovariate(0.5)
        item["disks"][0]["total"] = rng.randrange(2**53)
    body = json.dumps(batch).encode()
    assert parse_checks(body) == [from_wire(item) for item in json.loads(body)]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[1,2", "body: not valid JSON (Expecting ',' delimiter"),
        (
            b'[{"host": "a\\ud800b", "seq": 1, "taken_at": "2026-01-01T00:00:00Z"}]',
            "checks[0].host: must be valid",
        ),
        (b"[NaN]", "checks[0].check: must be a JSON object"),
    ],
)
def test_a_body_the_fast_parser_refuses_is_named_as_json_names_it(body: bytes, detail: str) -> None:
    with pytest.raises(HTTPException) as found:
        parse_checks(body)
    assert found.value.status_code == 422 and str(found.value.detail).startswith(detail)
