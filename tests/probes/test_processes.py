"""ProcessTable against `ps` and /proc: the busy child's cpu percent is the share of a core it got,
rss matches ps, a process that exits while being read is skipped, and the first reading waits only
the short priming interval."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from checkd.probes.processes import PRIME_INTERVAL_S, ProcessesUnreadable, ProcessTable, with_cmdline

BUSY = "while True: pass"
SPUN_S = 0.3  # cpu seconds the spinner gets between the two readings compared
HOG = "import time; b = bytearray(150 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(120)"


@pytest.fixture
def children() -> Iterator[tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """A child spinning on a core and one holding 150 MiB resident; killed by pid at teardown."""
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    hog = subprocess.Popen([sys.executable, "-c", HOG])
    time.sleep(1.0)  # the hog has touched its pages
    yield busy, hog
    for child in (busy, hog):
        child.kill()
        child.wait()


def _cpu_s(pid: int) -> float:
    """User + system cpu seconds of `pid`, from /proc/PID/stat (fields 14 and 15, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ps(pid: int, field: str) -> str:
    return subprocess.run(
        ["ps", "-o", f"{field}=", "-p", str(pid)], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_top_by_cpu_and_memory_agrees_with_ps(
    children: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
) -> None:
    busy, hog = children
    table = ProcessTable()
    started = time.monotonic()
    table.top("cpu", 5)  # the first reading primes: it waits about PRIME_INTERVAL_S
    assert time.monotonic() - started < PRIME_INTERVAL_S + 2
    cpu_from, wall_from = _cpu_s(busy.pid), time.monotonic()
    # At least a second, and long enough for the spinner to get SPUN_S of cpu however loaded the
    # machine is: the comparison below then rests on many clock ticks.
    while (time.monotonic() - wall_from < 1.0 or _cpu_s(busy.pid) - cpu_from < SPUN_S) and (
        time.monotonic() - wall_from < 30
    ):
        time.sleep(0.1)
    spun, span = _cpu_s(busy.pid) - cpu_from, time.monotonic() - wall_from
    assert spun >= SPUN_S, f"the spinner got {spun:.2f} s of cpu in {span:.0f} s: too little to compare"
    every = {p.pid: p for p in table.top("cpu", 100_000)}
    cpu_order = [p.cpu_percent for p in every.values()]
    assert cpu_order == sorted(cpu_order, reverse=True)
    spinner = every[busy.pid]
    # The spinner gets a whole core on an idle machine and its turn among the runnable ones on a
    # loaded one: its percent is the share /proc says it got over (nearly) the same span, within a
    # fifth and two clock ticks. A percent of all cores (half of this on 2), a fraction instead of
    # a percent, or a span other than the one between the two readings would not agree.
    share = spun / span * 100
    ticks = 2 / os.sysconf("SC_CLK_TCK") / span * 100
    assert abs(spinner.cpu_percent - share) <= 0.2 * share + ticks, (spinner, round(share, 1))
    assert spinner.cmdline is None  # not asked for
    assert spinner.name == _ps(busy.pid, "comm")
    assert spinner.user == _ps(busy.pid, "user")
    assert spinner.state == "running"
    by_memory = table.top("memory", 100_000)
    rss = [p.memory_rss for p in by_memory]
    assert rss == sorted(rss, reverse=True)
    held = next(p for p in by_memory if p.pid == hog.pid)
    ps_rss = int(_ps(hog.pid, "rss")) * 1024
    assert abs(held.memory_rss - ps_rss) < 0.05 * ps_rss
    assert held.memory_rss > 150 << 20
    assert held.state == "sleeping"
    assert {p.pid for p in by_memory} >= {busy.pid, hog.pid}
    assert len(table.top("memory", 3)) == 3


def test_cmdline_is_read_only_when_asked(
    children: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
) -> None:
    busy, _ = children
    rows = {p.pid: p for p in ProcessTable().top("cpu", 100_000, cmdline=True)}
    assert rows[busy.pid].cmdline == [sys.executable, "-c", BUSY]


def test_a_process_that_exits_while_being_read_is_skipped() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    table = ProcessTable()
    (row,) = [p for p in table.top("memory", 100_000) if p.pid == child.pid]
    child.kill()
    child.wait()  # reaped: the pid is gone between reading the table and reading its command line
    assert with_cmdline(row) is None
    assert child.pid not in {p.pid for p in table.top("memory", 100_000, cmdline=True)}


def test_a_process_table_that_cannot_be_read_is_one_counted_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = ProcessTable()
    monkeypatch.setattr(psutil, "PROCFS_PATH", str(tmp_path / "no-proc"))  # psutil's documented knob
    with pytest.raises(ProcessesUnreadable) as err:
        table.top("cpu", 5)
    assert "no-proc" in str(err.value)
    assert table.errors.counts == {"processes": 1} and table.errors.last == f"processes: {err.value}"
    monkeypatch.undo()
    assert table.top("cpu", 5)  # /proc again: it reads
    assert table.errors.failing() == [] and table.errors.streaks == {}
