"""CheckProbe.take_check against the host's own tools: /proc/meminfo, statvfs, getloadavg."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from checkd.probes import CheckProbe
from checkd.probes.check import FAILING_AFTER_CHECKS


def meminfo_kib(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == field:
            return int(rest.split()[0])
    raise AssertionError(f"{field} not in /proc/meminfo")


def busy(seconds: float) -> None:
    """Keep one CPU busy for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_memory_total_is_meminfo_memtotal_in_bytes() -> None:
    check = CheckProbe(disk_paths=["/"]).take_check()
    assert check.memory is not None
    assert check.memory.total == meminfo_kib("MemTotal") * 1024
    assert 0 < check.memory.available <= check.memory.total
    assert 0 < check.memory.used <= check.memory.total
    assert 0.0 <= check.memory.percent <= 100.0
    # MemAvailable moves while we read; a few MiB of slack.
    assert abs(check.memory.available - meminfo_kib("MemAvailable") * 1024) < 64 * 2**20


def test_disk_total_of_root_is_statvfs_blocks_times_fragment_size() -> None:
    check = CheckProbe(disk_paths=["/"]).take_check()
    [disk] = check.disks
    st = os.statvfs("/")
    assert disk.path == "/"
    assert disk.total == st.f_blocks * st.f_frsize
    # free is what an unprivileged user may still use (f_bavail); it moves with other writers.
    assert abs(disk.free - st.f_bavail * st.f_frsize) < 256 * 2**20
    assert 0 <= disk.used <= disk.total
    assert 0.0 <= disk.percent <= 100.0


def test_every_configured_disk_path_is_read(tmp_path: Path) -> None:
    paths = ["/", str(tmp_path)]
    check = CheckProbe(disk_paths=paths).take_check()
    assert [d.path for d in check.disks] == paths
    st = os.statvfs(tmp_path)
    assert check.disks[1].total == st.f_blocks * st.f_frsize


def test_load_is_getloadavg() -> None:
    before = os.getloadavg()
    check = CheckProbe(disk_paths=["/"]).take_check()
    after = os.getloadavg()
    assert check.load is not None
    got = (check.load.load1, check.load.load5, check.load.load15)
    for value, lo, hi in zip(got, before, after, strict=True):
        assert min(lo, hi) - 0.05 <= value <= max(lo, hi) + 0.05


def test_cpu_is_a_percentage_and_taken_at_comes_from_the_clock() -> None:
    probe = CheckProbe(disk_paths=["/"], clock=lambda: 1_234_567_890.5)
    check = probe.take_check()
    assert check.taken_at == 1_234_567_890.5
    assert check.cpu is not None
    assert 0.0 <= check.cpu <= 100.0
    assert probe.errors.total == 0


def test_service_states_are_recorded_as_strings() -> None:
    probe = CheckProbe(disk_paths=["/"], service_states=lambda: {"httpd": "active", "db": "not-found"})
    assert probe.take_check().services == {"httpd": "active", "db": "not-found"}


def test_missing_disk_path_leaves_that_disk_out_counts_the_error_and_records_the_rest(tmp_path: Path) -> None:
    missing = str(tmp_path / "no" / "such" / "dir")
    probe = CheckProbe(disk_paths=["/", missing], service_states=lambda: {"httpd": "inactive"})
    check = probe.take_check()
    assert [d.path for d in check.disks] == ["/"]
    assert probe.errors.counts == {f"disk:{missing}": 1}
    assert probe.errors.total == 1
    assert probe.errors.last is not None
    assert missing in probe.errors.last
    # Everything else is still there.
    assert check.cpu is not None
    assert check.memory is not None
    assert check.load is not None
    assert check.services == {"httpd": "inactive"}
    probe.take_check()
    assert probe.errors.counts == {f"disk:{missing}": 2}


def test_failing_service_reader_leaves_services_empty_and_records_the_rest() -> None:
    def broken() -> dict[str, str]:
        raise OSError("systemctl vanished")

    probe = CheckProbe(disk_paths=["/"], service_states=broken)
    check = probe.take_check()
    assert check.services == {}
    assert probe.errors.counts == {"services": 1}
    assert probe.errors.last is not None
    assert "systemctl vanished" in probe.errors.last
    assert check.cpu is not None
    assert check.memory is not None
    assert check.disks


FIRST_READING_IN_A_THREAD = """
import json, threading, time
from checkd.probes import CheckProbe

probe = CheckProbe(disk_paths=["/"])          # made in the main thread, as the Monitor does
end = time.monotonic() + 0.6
while time.monotonic() < end:                # one core fully busy since the probe was made
    pass
out = []
reader = threading.Thread(target=lambda: out.append(probe.take_check().cpu), name="checkd-sampler")
reader.start()
reader.join()
print(json.dumps(out[0]))
"""


@pytest.mark.skipif((os.cpu_count() or 1) > 64, reason="one busy core is noise on a very wide host")
def test_first_cpu_reading_in_the_sampler_thread_covers_the_time_since_the_probe_was_made() -> None:
    """The Monitor builds the probe in one thread and the sampler reads it in its own thread. The
    first cpu value must cover the time since the probe was made (primed), not be a meaningless 0.0.

    Runs in a fresh interpreter: psutil keeps its previous reading per thread id, and ids of
    finished threads are reused, so in this process an earlier test's thread could mask the bug."""
    proc = subprocess.run(
        [sys.executable, "-c", FIRST_READING_IN_A_THREAD],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    cpu = json.loads(proc.stdout)
    assert cpu is not None
    floor = 100.0 / (os.cpu_count() or 1) * 0.5  # half of one core's share, at least
    assert cpu >= floor, f"first reading {cpu}% after 0.6 s of one busy core since the probe was made"


def test_later_cpu_readings_cover_the_interval_since_the_previous_one() -> None:
    probe = CheckProbe(disk_paths=["/"])
    results: list[float | None] = []

    def sampler_thread() -> None:
        probe.take_check()
        time.sleep(0.3)  # idle-ish window
        busy(0.6)
        results.append(probe.take_check().cpu)

    worker = threading.Thread(target=sampler_thread)
    worker.start()
    worker.join()
    [cpu] = results
    assert cpu is not None
    assert cpu >= 100.0 / (os.cpu_count() or 1) * 0.4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /proc readers are Linux's")
def test_proc_readers_give_psutils_figures() -> None:
    import psutil

    from checkd.probes import system

    vm = psutil.virtual_memory()
    mem = system.read_memory()
    assert mem.total == vm.total
    # MemAvailable moves between the two reads; used and percent follow it as psutil computes them.
    assert abs(mem.available - vm.available) < 64 * 2**20
    assert mem.used == mem.total - mem.available
    assert mem.percent == round((mem.total - mem.available) / mem.total * 100, 1)

    du = psutil.disk_usage("/")
    disk = system.read_disk("/")
    assert disk.total == du.total
    assert abs(disk.free - du.free) < 256 * 2**20 and abs(disk.used - du.used) < 256 * 2**20
    assert abs(disk.percent - du.percent) <= 0.2

    # Clock ticks from /proc/stat are psutil's seconds times CLK_TCK, summed the same way.
    busy, total = system._proc_busy_and_total()
    p_busy, p_total = system._psutil_busy_and_total()
    tick = os.sysconf("SC_CLK_TCK")
    assert abs(total / tick - p_total) < 5 * os.cpu_count()  # type: ignore[operator]
    assert abs(busy / tick - p_busy) < 5 * os.cpu_count()  # type: ignore[operator]


def test_a_probe_failing_on_every_check_is_failing_until_it_reads_again(tmp_path: Path) -> None:
    mount = tmp_path / "mnt"
    mount.mkdir()
    times = iter(range(1000, 2000))
    probe = CheckProbe(disk_paths=["/", str(mount)], clock=lambda: float(next(times)))
    probe.take_check()
    mount.rmdir()  # the configured path goes away
    for n in range(1, FAILING_AFTER_CHECKS + 2):
        probe.take_check()
        failing = probe.errors.failing()
        if n < FAILING_AFTER_CHECKS:
            assert failing == [], "one or two failures are a blip"
    assert [(f.probe, f.since, f.checks) for f in failing] == [
        (f"disk:{mount}", 1001.0, FAILING_AFTER_CHECKS + 1)
    ]
    assert "FileNotFoundError" in failing[0].error
    mount.mkdir()
    probe.take_check()
    assert probe.errors.failing() == [] and probe.errors.counts == {f"disk:{mount}": FAILING_AFTER_CHECKS + 1}
