"""Network, block-device, swap, inode and process probes against psutil, the system's own tools
(`ip -s -j link`, `df -i`) and real traffic: a loopback transfer and an fsync'd file."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from checkd.probes import CheckProbe
from checkd.probes.counters import CounterRates
from checkd.probes.devices import (
    disk_io_probe,
    is_virtual,
    network_probe,
    pick,
    read_disk_counters,
    read_net_counters,
)
from checkd.probes.system import count_processes, read_disk, read_swap


def test_net_counters_are_psutils_and_ips() -> None:
    """Counters only grow, so ours lie between two reads of psutil's, and `ip -s` agrees for lo."""
    before = psutil.net_io_counters(pernic=True)
    ours = read_net_counters()
    after = psutil.net_io_counters(pernic=True)
    assert set(ours) == set(before)
    for name, c in ours.items():
        assert before[name].bytes_recv <= c.rx_bytes <= after[name].bytes_recv
        assert before[name].packets_sent <= c.tx_packets <= after[name].packets_sent
        assert before[name].errin <= c.rx_errors <= after[name].errin
        assert before[name].dropout <= c.tx_drops <= after[name].dropout
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed: compared with psutil only")
    [lo] = json.loads(
        subprocess.run(["ip", "-s", "-j", "link", "show", "lo"], capture_output=True, check=True).stdout
    )
    later = read_net_counters()["lo"]
    assert ours["lo"].rx_bytes <= lo["stats64"]["rx"]["bytes"] <= later.rx_bytes
    assert ours["lo"].tx_packets <= lo["stats64"]["tx"]["packets"] <= later.tx_packets


def test_disk_counters_are_psutils() -> None:
    before = psutil.disk_io_counters(perdisk=True)
    ours = read_disk_counters()
    after = psutil.disk_io_counters(perdisk=True)
    assert set(ours) == set(before)
    for name, c in ours.items():
        assert before[name].read_bytes <= c.read_bytes <= after[name].read_bytes
        assert before[name].write_bytes <= c.write_bytes <= after[name].write_bytes
        assert before[name].busy_time <= c.busy_ms <= after[name].busy_time


def test_disk_counters_are_what_sysfs_says() -> None:
    """/sys/block/<dev>/stat, the kernel's other view of the same counters (sectors read: field 2,
    written: 6, ms doing I/O: 9), lies between two of our reads for every whole disk."""
    disks = sorted(os.listdir("/sys/block")) if os.path.isdir("/sys/block") else []
    if not disks:
        pytest.skip("no /sys/block here: compared with psutil only")
    before = read_disk_counters()
    sysfs = {d: [int(x) for x in Path(f"/sys/block/{d}/stat").read_text().split()] for d in disks}
    after = read_disk_counters()
    for name, f in sysfs.items():
        assert before[name].read_bytes <= f[2] * 512 <= after[name].read_bytes, name
        assert before[name].write_bytes <= f[6] * 512 <= after[name].write_bytes, name
        assert before[name].busy_ms <= f[9] <= after[name].busy_ms, name


def _send_over_loopback(size: int) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        got = bytearray()

        def receive() -> None:
            conn, _ = server.accept()
            with conn:
                while len(got) < size:
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        break
                    got.extend(chunk)

        reader = threading.Thread(target=receive)
        reader.start()
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"x" * size)
        reader.join(10)
    assert len(got) == size


def test_a_loopback_transfer_shows_in_the_rates_of_lo_named_explicitly() -> None:
    read = network_probe(["lo"])
    assert [n.iface for n in read()] == ["lo"]  # first read: a baseline, no rates yet
    started = time.monotonic()
    size = 8 << 20
    _send_over_loopback(size)
    time.sleep(0.2)
    [lo] = read()
    elapsed = time.monotonic() - started
    rx = lo.rates["rx_bytes"]
    assert rx is not None and rx * elapsed >= size, (rx, elapsed)
    assert lo.rates["rx_packets"] is not None and lo.rates["rx_packets"] > 0


def _block_device_of(path: Path) -> str | None:
    """The whole disk holding `path` (a partition's parent), or None (tmpfs, overlay, network)."""
    st = os.stat(path)
    link = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
    if not link.exists():
        return None
    real = link.resolve()
    return real.parent.name if (real / "partition").exists() else real.name


def test_a_file_written_with_fsync_shows_in_its_devices_written_bytes(tmp_path: Path) -> None:
    device = _block_device_of(tmp_path)
    if device is None:
        pytest.skip(f"{tmp_path} is not on a block device here (tmpfs or overlay): nothing to measure")
    read = disk_io_probe([device])
    assert [d.device for d in read()] == [device]
    started = time.monotonic()
    size = 16 << 20
    with open(tmp_path / "data", "wb") as fh:
        fh.write(os.urandom(size))
        fh.flush()
        os.fsync(fh.fileno())
    [disk] = read()
    elapsed = time.monotonic() - started
    assert disk.counters is not None and disk.counters.write_bytes > 0
    written = disk.rates["write_bytes"]
    assert written is not None
    # The rate times the interval is what was written since the baseline: at least our file.
    assert written * elapsed >= size, (written, elapsed)
    assert disk.busy_percent is not None and 0 <= disk.busy_percent <= 100


def test_star_picks_every_device_but_loopback_and_virtual_ones() -> None:
    present = set(read_net_counters())
    chosen = pick(["*"], present, kind="net")
    assert "lo" not in chosen
    assert all(not is_virtual("net", n) for n in chosen)
    assert set(chosen) == {n for n in present if not os.path.exists(f"/sys/devices/virtual/net/{n}")}
    assert pick(["lo", "*"], present, kind="net")[0] == "lo", "a named device comes first, even virtual"
    disks = pick(["*"], read_disk_counters(), kind="block", candidates=lambda: set(os.listdir("/sys/block")))
    assert not any(d.startswith(("loop", "ram", "zram")) for d in disks)


def test_a_named_device_that_does_not_exist_warns_once_and_gives_no_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="checkd.probes.devices"):
        read = network_probe(["nosuch0"])
        assert [r.getMessage() for r in caplog.records] == [
            "net device 'nosuch0' is configured but does not exist; its series stay null"
        ], "warned at start-up, before the first check"
        assert read() == [] and read() == []
    assert [r.getMessage() for r in caplog.records].count(
        "net device 'nosuch0' is configured but does not exist; its series stay null"
    ) == 1


def test_rates_are_null_at_first_and_after_a_counter_goes_down() -> None:
    now = [100.0]
    rates = CounterRates(clock=lambda: now[0])
    assert rates.update("eth0", (1000, 10)) == (None, None)
    now[0] += 2
    assert rates.update("eth0", (3000, 30)) == (1000.0, 10.0)
    now[0] += 1
    assert rates.update("eth0", (500, 40)) == (None, 10.0), "a reset gives null, not a spike"
    now[0] += 1
    assert rates.update("eth0", (1500, 50)) == (1000.0, 10.0)
    rates.keep_only(set())  # the device went away
    now[0] += 1
    assert rates.update("eth0", (9_999_999, 60)) == (None, None), "a device that reappears starts over"


def test_swap_inodes_and_processes_are_what_psutil_and_df_say() -> None:
    swap, expected = read_swap(), psutil.swap_memory()
    assert (swap.total, swap.percent) == (expected.total, expected.percent)
    assert swap.used is not None and abs(swap.used - expected.used) <= 64 << 20
    disk = read_disk("/")
    df = subprocess.run(["df", "--output=itotal,iavail", "/"], capture_output=True, text=True, check=True)
    itotal, ifree = (int(x) for x in df.stdout.split()[-2:])
    assert disk.inodes_total == itotal and abs((disk.inodes_free or 0) - ifree) <= 1000
    assert abs(count_processes() - len(psutil.pids())) <= 10


def test_a_check_carries_the_host_readings() -> None:
    probe = CheckProbe(disk_paths=["/"], net_interfaces=["lo"], disk_devices=["*"], host_counts=True)
    probe.take_check()
    check = probe.take_check()
    assert check.swap is not None and check.procs is not None and check.procs > 0
    assert check.cpu_count == os.cpu_count()
    assert [n.iface for n in check.net] == ["lo"] and check.net[0].rates["tx_bytes"] is not None
    assert check.disks[0].inodes_percent is not None
    assert probe.errors.total == 0
    plain = CheckProbe(disk_paths=["/"]).take_check()
    assert (plain.swap, plain.procs, plain.net, plain.disk_io) == (None, None, [], []), "read only when asked"
