"""The bench harness, shared by every script in bench/ (not a benchmark itself).

The machine and the results file (bench/out/<name>.json, gitignored), percentiles, /proc
readings, starting and stopping `checkd serve`, Glances or any HTTP server by pid on free
loopback ports, and SQLite helpers: the bulk loader of synthetic checks, checkpoint,
counts and dbstat sizes. It imports nothing from bench/ and no private name of checkd.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = ROOT / ".venv" / "bin"
CHECKD = VENV_BIN / "checkd"
GLANCES_VENV = BENCH_DIR / ".venv-glances"
GLANCES = GLANCES_VENV / "bin" / "glances"
OUT_DIR = Path(os.environ.get("BENCH_OUT") or BENCH_DIR / "out")  # `make quick` uses out/quick
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST_NAME = "bench-host"

sys.path.insert(0, str(ROOT / "src"))  # run from a checkout even if the venv is not the interpreter


# -- the machine and the results ------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, kernel, Python, SQLite, git HEAD and the UTC date of this run."""
    model = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "src"], check=False, capture_output=True, text=True
    )
    return {
        "git_head": head.stdout.strip(),
        "src_uncommitted_changes": len(dirty.stdout.splitlines()),
        "nproc": os.cpu_count(),
        "cpu_model": model.group(1) if model else "unknown",
        "mem_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_at_start": os.getloadavg(),
    }


def save(name: str, result: dict[str, Any]) -> Path:
    """Write `result` (plus the machine) to bench/out/<name>.json and return the path."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), **result}
    result.setdefault("machine", machine())
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nresults saved to {path}")
    return path


def log(msg: str) -> None:
    """Print `msg` with the wall-clock time, at once."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct_of(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of `values`, linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def stats_ms(samples: Sequence[float]) -> dict[str, float]:
    """p50 and p95 of millisecond samples, and how many."""
    return {
        "p50_ms": round(pct_of(samples, 50), 3),
        "p95_ms": round(pct_of(samples, 95), 3),
        "n": len(samples),
    }


# -- /proc ----------------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[bytes]:
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    return stat[stat.rfind(b")") + 2 :].split()  # [0] is field 3 (state), [11] is 14 (utime)


def proc_cpu_ticks_s(pid: int) -> float:
    """utime+stime+cutime+cstime of `pid` in seconds (tick resolution: 1/CLK_TCK), dead threads included."""
    return sum(int(x) for x in _stat_fields(pid)[11:15]) / CLK_TCK


def proc_cpu_ns(pid: int) -> tuple[int, frozenset[int]]:
    """Nanosecond CPU time of `pid` summed over its live threads (/proc/<pid>/task/*/schedstat), and the tids.

    Precise, but a thread that exits takes its time with it: compare the tid sets of two readings.
    """
    total = 0
    tids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int((task / "schedstat").read_text().split()[0])
            tids.append(int(task.name))
    return total, frozenset(tids)


def all_processes_cpu() -> dict[int, tuple[str, int, float]]:
    """pid -> (comm, ppid, utime+stime seconds) for every process on the machine."""
    out: dict[int, tuple[str, int, float]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (d / "stat").read_bytes()
                comm = stat[stat.find(b"(") + 1 : stat.rfind(b")")].decode(errors="replace")
                f = stat[stat.rfind(b")") + 2 :].split()
                out[int(d.name)] = (comm, int(f[1]), (int(f[11]) + int(f[12])) / CLK_TCK)
    return out


def machine_ticks() -> tuple[int, int, int, int]:
    """(busy, idle, iowait, steal) ticks of all CPUs from /proc/stat; busy excludes steal."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = f[:8]
    return user + nice + system + irq + softirq, idle, iowait, steal


def proc_status(pid: int, key: str) -> int:
    """A kB or count field (VmRSS, VmHWM, Threads, ...) of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(f"no {key} for pid {pid}")


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB."""
    return proc_status(pid, "VmRSS")


# -- processes ------------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """(status, body) of a GET on loopback."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # loopback only
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM `proc` by its pid, then SIGKILL it if it has not exited within `timeout`."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)


@dataclass
class Served:
    """A process serving HTTP on 127.0.0.1:port (checkd, Glances or a ceiling app)."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path | None = None  # where its stdout and stderr go

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def url(self, path: str) -> str:
        """http://127.0.0.1:port + `path`."""
        return f"http://127.0.0.1:{self.port}{path}"


def serve(name: str, argv: list[str], workdir: Path, ready: str, port: int, **popen: Any) -> Served:
    """Start `argv` in `workdir` (output to <name>.log), wait until GET `ready` answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir, **popen)
    served = Served(name, proc, port, workdir, log_path)
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} before {ready} answered")
            with contextlib.suppress(OSError):
                if http_get(served.url(ready), timeout=2)[0] == 200:
                    return served
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: {ready} did not answer within 90 s")
            time.sleep(0.2)
    except Exception:
        stop_process(proc)
        print(log_path.read_text()[-2000:], file=sys.stderr)
        raise


def start_checkd(
    data_dir: Path,
    *,
    interval: int = 1,
    autostart: bool = True,
    name: str = "checkd",
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Served:
    """Start `checkd serve --interval N` (sampler started or not) with `data_dir` on a free port;
    the environment is this one without CHECKD_* variables, plus `env`."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHECKD_")}
    environ["CHECKD_SAMPLER__AUTOSTART"] = "true" if autostart else "false"
    environ.update(env or {})
    argv = [str(CHECKD), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    argv += ["--interval", str(interval), "--host-name", HOST_NAME, *args]
    return serve(name, argv, data_dir, "/healthz", port, env=environ)


def start_glances(workdir: Path) -> Served:
    """Start `glances -w --disable-webui` (REST API only) on a free port; install it on first use."""
    if not GLANCES.exists():
        print("installing Glances into bench/.venv-glances ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(GLANCES_VENV)], check=True)
        subprocess.run([str(GLANCES_VENV / "bin" / "pip"), "install", "-q", "glances[web]"], check=True)
    port = free_port()
    argv = [str(GLANCES), "-w", "--disable-webui", "-B", "127.0.0.1", "-p", str(port)]
    env = {**os.environ, "HOME": str(workdir)}  # keep its config/log files out of the real home
    return serve("glances", argv, workdir, "/api/4/cpu", port, env=env)


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory under /tmp, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"checkd-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- SQLite ---------------------------------------------------------------------------------------
def wal_checkpoint(db: Path) -> None:
    """Fold the WAL into the main database file (so its size counts everything)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def query(db: Path, sql: str) -> list[Any]:
    """The rows of `sql` on `db`, read through a separate read-only connection."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return con.execute(sql).fetchall()


def count_checks(db: Path) -> int:
    """Rows in `checks`."""
    return int(query(db, "SELECT count(*) FROM checks")[0][0])


def dbstat(db: Path) -> dict[str, tuple[int, int]]:
    """(bytes on disk, payload bytes) per table and index, from SQLite's dbstat table."""
    rows = query(db, "SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name ORDER BY 2 DESC")
    return {name: (int(b), int(p)) for name, b, p in rows}


RAW_TABLES = ("checks", "ix_checks_host_taken", "check_disks", "check_services")


def db_bytes(db: Path) -> dict[str, float]:
    """After a TRUNCATE checkpoint: the file's size, and bytes per check (whole file; raw tables with
    their index, from dbstat) and per rollup row."""
    wal_checkpoint(db)
    split = dbstat(db)
    checks, rollups = count_checks(db), int(query(db, "SELECT count(*) FROM rollups")[0][0])
    raw = sum(split.get(t, (0, 0))[0] for t in RAW_TABLES)
    size = db.stat().st_size
    return {
        "file_mb": round(size / 1e6, 1),
        "checks": checks,
        "rollup_rows": rollups,
        "per_check_file": round(size / checks, 1) if checks else float("nan"),
        "per_check_raw_tables": round(raw / checks, 1) if checks else float("nan"),
        "per_rollup_row": round(split.get("rollups", (0, 0))[0] / rollups, 1) if rollups else float("nan"),
    }
