"""Cost of adding the not-yet-folded checks to rollup history: store.series now vs at git REV.

Builds (once) a SQLite database of 1 M checks of host "h" at 1 s ending a minute ago, folds them
with checkd's own fold, then adds 60 unfolded checks (one fold interval, as on a live server).
Then times store.series() of the working tree against the one at --rev (read with `git show`),
alternating which goes first, over a 30-day (hourly), 7-day and 1-hour (1-minute) range.

Run (from the repository root):
    .venv/bin/python bench/history_tail.py [--rev b7a9c1e] [--rounds 300] [--db /tmp/checkd-tail.db]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from bulk_load import bulk_load
from checkd import store
from checkd.db import make_engine
from checkd.probes import Check
from checkd.store import history as current


def _module_at(rev: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{rev}:src/checkd/store/history.py"], check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "history_at_rev.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("history_at_rev", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["history_at_rev"] = module
    spec.loader.exec_module(module)
    return module


def _build(db: Path, now: int) -> None:
    bulk_load(db, 1_000_000, host="h", end_at=now - 60)
    engine = make_engine(f"sqlite:///{db}")
    while True:
        with engine.begin() as conn:
            if store.fold_new_checks(conn=conn, host="h", batch=50_000) == 0:
                break
    tail = [Check(taken_at=now - 59 + i, cpu=5.0, memory=None, load=None) for i in range(60)]
    with engine.begin() as conn:
        store.insert_checks(conn=conn, host="h", items=tail)
    engine.dispose()


def main() -> None:
    """Build if needed, then print p50/p95 per range for both versions."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", default="b7a9c1e")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--db", type=Path, default=Path("/tmp/checkd-tail.db"))
    args = ap.parse_args()
    now = int(time.time())
    if not args.db.exists():
        _build(args.db, now)
    before = _module_at(args.rev)
    engine = make_engine(f"sqlite:///{args.db}")
    keep = store.Retentions(raw=30 * 86400, minute=180 * 86400)
    cases = {"30 d / 720 points": (now - 30 * 86400, 720), "7 d / 500": (now - 7 * 86400, 500),
             "1 h / 120": (now - 3600, 120)}  # fmt: skip
    times: dict[tuple[str, str], list[float]] = {}
    with engine.connect() as conn:
        for rnd in range(args.rounds):
            for name, (since, points) in cases.items():
                pair = [("before", before), ("after", current)]
                for label, module in pair if rnd % 2 else reversed(pair):
                    t = time.perf_counter()
                    module.series(conn=conn, host="h", metric="cpu_percent", qualifier=None, since=since,
                                  until=now, points=points, now=now, keep=keep)  # fmt: skip
                    times.setdefault((name, label), []).append((time.perf_counter() - t) * 1000)
    for (name, label), values in times.items():
        p95 = sorted(values)[int(len(values) * 0.95)]
        print(f"{name:18} {label:6} p50 {statistics.median(values):.3f} ms  p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
