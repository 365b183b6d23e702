"""The charts' growth between history reads (live.js), run in chromium on the served module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from checkd_process import CheckdProcess

from .helpers import Page

pytestmark = pytest.mark.browser

FOLD = """async () => {
  const href = document.querySelector('link[rel=modulepreload][href$="/live.js"]').href;
  const { foldIn, valueOf } = await import(href);
  const t0 = Date.parse("2026-11-30T10:00:00Z") / 1000;
  const at = (s) => new Date((t0 + s) * 1000).toISOString().replace(".000Z", "Z");
  const points = [{ t: at(-20), min: 1, avg: 1, max: 1 }, { t: at(0), min: 10, avg: 20, max: 30 }];
  const inside = foldIn(points, t0 + 5, 40, 10, t0 - 30);
  const next = foldIn(inside, t0 + 23, 7, 10, t0 - 30);
  const aged = foldIn(next, t0 + 24, 9, 10, t0 - 5);
  const check = { cpu: 12.5, memory: { percent: 40 }, disks: [{ path: "/", percent: 33 }],
    net: [{ iface: "eth0", rx_bytes_per_s: 100, tx_bytes_per_s: 5 }],
    disk_io: [{ device: "vda", read_bytes_per_s: 7, write_bytes_per_s: 8 }] };
  return {
    inside, next, aged,
    old: foldIn(points, t0 - 30, 99, 10, t0 - 60),
    none: foldIn(points, t0 + 5, null, 10, 0),
    values: [
      valueOf({ metric: "cpu_percent", param: {} }, check),
      valueOf({ metric: "mem_percent", param: {} }, check),
      valueOf({ metric: "disk_percent", param: { path: "/" } }, check),
      valueOf({ metric: "net_tx_bytes", param: { device: "eth0" } }, check),
      valueOf({ metric: "disk_write_bytes", param: { device: "vda" } }, check),
      valueOf({ metric: "net_rx_bytes", param: { device: "wlan9" } }, check),
    ],
  };
}"""


def test_readings_fold_into_the_newest_bucket_or_start_the_next(
    server: CheckdProcess, open_page: Callable[..., Page]
) -> None:
    p = open_page(server)
    out: dict[str, Any] = p.page.evaluate(FOLD)
    inside = out["inside"]
    assert len(inside) == 2 and inside[-1] == {
        "t": "2026-11-30T10:00:00Z",
        "min": 10,
        "max": 40,
        "avg": 30,
        "n": 2,
    }  # a history bucket counts as one reading: (20 + 40) / 2
    assert out["next"][-1] == {
        "t": "2026-11-30T10:00:20Z",
        "min": 7,
        "avg": 7,
        "max": 7,
        "n": 1,
    }  # on the grid
    assert [x["t"] for x in out["aged"]] == [
        "2026-11-30T10:00:00Z",
        "2026-11-30T10:00:20Z",
    ]  # before since: gone
    assert out["aged"][-1]["avg"] == 8
    assert (
        len(out["old"]) == 2 and out["old"][-1]["avg"] == 20
    )  # a reading older than the newest bucket: ignored
    assert out["none"][-1]["avg"] == 20  # no value in the check: nothing folded
    assert out["values"] == [12.5, 40, 33, 5, 8, None]
    assert not p.errors
