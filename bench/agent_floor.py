"""The floor under `checkd agent`'s cost (bench/agent_cost.py starts it): a check's system calls.

Once a second on the agent's drift-free schedule, the reads a check makes (/proc/stat, meminfo,
net/dev and diskstats by pread on kept descriptors, getloadavg, statvfs of /, the /proc listing
every 5 s), parsing and sending nothing; standard library modules only, as few as it needs.
SIGUSR1 writes {"checks_total": rounds} to the file given, as the agent does; SIGTERM stops it.

    python bench/agent_floor.py STATUS_FILE
"""

import json
import os
import signal
import sys
import threading
import time


def main() -> None:
    """Loop until SIGTERM."""
    status_file = sys.argv[1]
    files = ("/proc/stat", "/proc/meminfo", "/proc/net/dev", "/proc/diskstats")
    fds = [os.open(name, os.O_RDONLY | os.O_CLOEXEC) for name in files]
    stopping = threading.Event()
    rounds = 0

    def dump(_sig: int, _frame: object) -> None:
        with open(status_file, "w") as out:
            out.write(json.dumps({"checks_total": rounds}))

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGTERM, lambda _sig, _frame: stopping.set())
    dump(0, None)
    slot = time.monotonic()
    while not stopping.is_set():
        for fd in fds:
            os.pread(fd, 4096, 0)
        os.getloadavg()
        os.statvfs("/")
        if rounds % 5 == 0:
            os.listdir("/proc")
        rounds += 1
        slot += 1.0
        stopping.wait(max(0.0, slot - time.monotonic()))


if __name__ == "__main__":
    main()
