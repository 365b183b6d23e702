"""Write contention: does a running sampler keep its cadence while a big writer holds the lock?

Goal (issue 15): at a 1 s interval, 0 missed slots and 0 write errors, and at most 1.5 s between
two stored checks, while (A) `checkd import-legacy` of --rows rows runs into the server's data
dir, and (B) the upkeep thread catches up the rollups after a bulk load of --bulk checks; the
import and the fold catch-up no slower than before.

Each scenario runs for every variant in one run: "after" is this checkout's src/, "before" is
--before DIR (a src/ tree of the base commit, e.g. `git archive main src | tar -x -C DIR`),
both through PYTHONPATH with the same venv. Store times are seen from outside: a client polls
GET /api/v2/checks/latest every --poll seconds and notes when a new check id appears.

Run (from the repository root):
    .venv/bin/python bench/write_contention.py --before /tmp/before/src [--rows 200000]
        [--bulk 1000000] [--rounds 1]
Results go to stdout and bench/out/write_contention.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import harness as common
from bulk_load import bulk_load

HOST = common.HOST_NAME
_MEMORY = (
    "MEMORY USAGE( svmem(total=1912107008, available={a}, percent={p}, used=270098432, free=1491259392,"
    " active=210128896, inactive=74883072, buffers=970752, cached=149778432, shared=9023488))"
)


def make_exam_db(path: Path, rows: int) -> None:
    """An exam-system database of `rows` rows in its prose format (the import's input)."""
    rng = random.Random(7)

    def gen() -> Any:
        for i in range(1, rows + 1):
            avail = rng.randint(900_000_000, 1_800_000_000)
            yield (
                i,
                f"CPU PERCENTAGE( {rng.randint(0, 1000) / 10}% )",
                _MEMORY.format(a=avail, p=round(100 - avail / 19121070.08, 1)),
                f"DISK USAGE( Total: 18238930944 , Free: {16790462464 - i} , Used: {1448468480 + i} )",
                "HTTPD SERVICE STATUS(    Active: active (running) )",
            )

    with sqlite3.connect(path) as db:
        db.execute(
            'CREATE TABLE "check" (id INTEGER PRIMARY KEY, cpu TEXT, memory TEXT, disk TEXT, httpd TEXT)'
        )
        db.executemany('INSERT INTO "check" VALUES (?, ?, ?, ?, ?)', gen())


class StorePoller:
    """Polls /api/v2/checks/latest and records the wall time at which each new check id showed up."""

    def __init__(self, served: common.Served, every: float) -> None:
        self.served, self.every = served, every
        self.seen: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = None
        while not self._stop.is_set():
            try:
                status, body = common.http_get(self.served.url("/api/v2/checks/latest"), timeout=5)
                if status == 200:
                    cid = int(json.loads(body)["id"])
                    if cid != last:
                        self.seen.append((time.time(), cid))
                        last = cid
            except OSError:
                pass
            self._stop.wait(self.every)

    def __enter__(self) -> StorePoller:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time between two newly stored checks seen within [since, until]."""
        times = [t for t, _ in self.seen if since <= t <= until]
        return max((b - a for a, b in itertools.pairwise(times)), default=float("nan"))


def stored_seconds(db: Path, since: float, until: float) -> tuple[int, int]:
    """(whole seconds in [since, until], of them those without a stored check of HOST)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT DISTINCT c.taken_at FROM checks c JOIN hosts h ON h.id = c.host_id"
            " WHERE h.name = ? AND c.taken_at BETWEEN ? AND ?",
            (HOST, int(since), int(until)),
        ).fetchall()
    seconds = set(range(int(since) + 1, int(until)))
    return len(seconds), len(seconds - {int(r[0]) for r in rows})


def sampler_counters(served: common.Served) -> dict[str, Any]:
    """The counters of /api/v2/sampler that this benchmark reports."""
    body = json.loads(common.http_get(served.url("/api/v2/sampler"))[1])
    keys = (
        "checks_total",
        "errors_total",
        "missed_slots_total",
        "pending_writes_max",
        "longest_write_wait_s",
    )
    return {k: body.get(k) for k in keys}


def locked_lines(served: common.Served) -> int:
    """Lines of the server's log that report a lock error."""
    assert served.log is not None
    return sum("database is locked" in line for line in served.log.read_text(errors="replace").splitlines())


def run_import(variant: str, env: dict[str, str], exam: Path, work: Path, poll: float) -> dict[str, Any]:
    """Scenario A: a server at 1 s while `checkd import-legacy` writes into its data dir."""
    data = work / f"import-{variant}"
    served = common.start_checkd(data, env=env, name=variant)
    try:
        with StorePoller(served, poll) as poller:
            time.sleep(3)
            t0, server_cpu0 = time.time(), common.proc_cpu_ticks_s(served.pid)
            children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cmd = [str(common.CHECKD), "import-legacy", str(exam), "--data-dir", str(data), "--interval", "1"]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            t1, server_cpu = time.time(), common.proc_cpu_ticks_s(served.pid) - server_cpu0
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            import_cpu = children.ru_utime + children.ru_stime - children0.ru_utime - children0.ru_stime
            time.sleep(2)
        counters = sampler_counters(served)
    finally:
        common.stop_process(served.proc)
    seconds, missing = stored_seconds(data / "checkd.db", t0, t1)
    return {
        "import_s": round(t1 - t0, 2),
        "import_cpu_s": round(import_cpu, 2),
        "server_cpu_s_during_import": round(server_cpu, 2),
        "import_exit": done.returncode,
        "import_output": done.stdout.strip()[-200:],
        "longest_store_gap_s": round(poller.longest_gap(t0, t1), 3),
        "seconds": seconds,
        "seconds_without_check": missing,
        "locked_log_lines": locked_lines(served),
        **counters,
    }


def folded(db: Path) -> int:
    """hosts.checks_count of HOST: the checks its upkeep has folded so far."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
        row = con.execute("SELECT checks_count FROM hosts WHERE name = ?", (HOST,)).fetchone()
    return int(row[0]) if row else 0


def run_fold(
    variant: str, env: dict[str, str], loaded: Path, work: Path, bulk: int, poll: float
) -> dict[str, Any]:
    """Scenario B: a server at 1 s starting on a bulk-loaded store, its upkeep folding the backlog;
    watched from the server's start until the backlog is folded."""
    data = work / f"fold-{variant}"
    data.mkdir(parents=True)
    shutil.copy(loaded, data / "checkd.db")
    started = time.time()
    served = common.start_checkd(data, env=env, name=variant)
    t0 = time.time()  # the server answers: it has opened the store and its upkeep is folding
    try:
        with StorePoller(served, poll) as poller:
            while folded(data / "checkd.db") < bulk and time.time() - t0 < 1800:
                time.sleep(0.5)
            t1 = time.time()
            time.sleep(2)
        counters = sampler_counters(served)
    finally:
        common.stop_process(served.proc)
    seconds, missing = stored_seconds(data / "checkd.db", t0, t1)
    return {
        "catch_up_s": round(t1 - started, 1),
        "fold_rate_per_s": round(bulk / (t1 - started)),
        "longest_store_gap_s": round(poller.longest_gap(t0, t1), 3),
        "seconds": seconds,
        "seconds_without_check": missing,
        "locked_log_lines": locked_lines(served),
        **counters,
    }


def main() -> None:
    """Run both scenarios for both variants and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="src/ tree of the base commit")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--bulk", type=int, default=1_000_000)
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of before/after (odd rounds: after first)"
    )
    args = parser.parse_args()
    variants = {"before": str(args.before.resolve()), "after": str(common.ROOT / "src")}
    result: dict[str, Any] = {"rows": args.rows, "bulk": args.bulk}
    with common.temp_dir("contention") as tmp:
        exam = tmp / "exam.db"
        make_exam_db(exam, args.rows)
        loaded = tmp / "loaded.db"
        if args.bulk:
            print(f"bulk-loading {args.bulk} checks ...", flush=True)
            bulk_load(loaded, args.bulk, host=HOST)
        for rnd in range(args.rounds):
            order = list(variants.items())
            for variant, src in order if rnd % 2 == 0 else order[::-1]:  # alternate who goes first
                env = {"PYTHONPATH": src, "PATH": str(common.VENV_BIN) + ":/usr/bin:/bin"}
                name = f"{variant}-{rnd}"
                print(f"{name}: import of {args.rows} rows ...", flush=True)
                result[f"import_{name}"] = run_import(name, env, exam, tmp, args.poll)
                print(f"  {result[f'import_{name}']}", flush=True)
                if args.bulk:
                    print(f"{name}: fold catch-up of {args.bulk} checks ...", flush=True)
                    result[f"fold_{name}"] = run_fold(name, env, loaded, tmp, args.bulk, args.poll)
                    print(f"  {result[f'fold_{name}']}", flush=True)
    common.save("write_contention", result)


if __name__ == "__main__":
    main()
