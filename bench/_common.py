"""Shared helpers for the benchmarks in bench/ (not a benchmark itself).

Starting and stopping `checkd serve` and Glances by pid, reading a process's CPU time and RSS
from /proc, bulk-loading checks, running wrk, describing the machine, and saving results as
JSON under bench/out/ (gitignored).
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
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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


# -- the machine ----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, kernel, Python, SQLite and the UTC date of this run."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError):
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    import sqlite3

    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
    ).stdout
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "src"], check=False, capture_output=True, text=True
    ).stdout
    return {
        "git_head": head.strip(),
        "src_uncommitted_changes": len(dirty.splitlines()),
        "nproc": os.cpu_count(),
        "cpu_model": model,
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


# -- /proc ----------------------------------------------------------------------------------------
def proc_cpu_ticks_s(pid: int) -> float:
    """utime+stime+cutime+cstime of `pid` in seconds (tick resolution: 1/CLK_TCK), dead threads included."""
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    fields = stat[stat.rfind(b")") + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14 -> index 11
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK


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


def rss_kib(pid: int) -> int:
    """VmRSS of `pid` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def proc_status(pid: int, key: str) -> int:
    """A kB or count field (VmHWM, RssAnon, Threads, ...) of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


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


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0, ok: int = 200) -> None:
    """Wait until GET `url` answers `ok`; raise if `proc` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode} before {url} answered")
        with contextlib.suppress(OSError):
            if http_get(url, timeout=2)[0] == ok:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer {ok} within {timeout}s")


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
    """A process serving HTTP on 127.0.0.1:port (checkd or Glances)."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path | None = None
    log: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def start_checkd(
    data_dir: Path,
    *,
    interval: int = 1,
    autostart: bool = True,
    host_name: str = HOST_NAME,
    name: str = "checkd",
    env: dict[str, str] | None = None,
) -> Served:
    """Start `checkd serve --interval N` on a free loopback port with `data_dir`; wait for /healthz."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"{name}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CHECKD_")}
    full_env["CHECKD_SAMPLER__AUTOSTART"] = "true" if autostart else "false"
    full_env.update(env or {})
    argv = [str(CHECKD), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    argv += ["--interval", str(interval), "--host-name", host_name]
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=full_env, cwd=data_dir)
    served = Served(name, proc, port, data_dir, log)
    try:
        wait_http(served.url("/healthz"), proc)
    except Exception:
        stop_process(proc)
        print(log.read_text()[-2000:], file=sys.stderr)
        raise
    return served


def glances_available() -> bool:
    """True when bench/.venv-glances has Glances (see `make -C bench glances`)."""
    return GLANCES.exists()


def install_glances() -> None:
    """Create bench/.venv-glances and install Glances with its web server into it."""
    if glances_available():
        return
    print("installing Glances into bench/.venv-glances ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(GLANCES_VENV)], check=True)
    pip = [str(GLANCES_VENV / "bin" / "pip"), "install", "-q"]
    subprocess.run([*pip, "glances[web]"], check=True)


def start_glances(workdir: Path, *, refresh: float | None = None) -> Served:
    """Start `glances -w --disable-webui` (REST API only, default plugins) on a free loopback port."""
    install_glances()
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "glances.log"
    argv = [str(GLANCES), "-w", "--disable-webui", "-B", "127.0.0.1", "-p", str(port)]
    if refresh is not None:
        argv += ["-t", str(refresh)]
    env = {**os.environ, "HOME": str(workdir)}  # keep its config/log files out of the real home
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    served = Served("glances", proc, port, workdir, log)
    try:
        wait_http(served.url("/api/4/cpu"), proc, timeout=90)
    except Exception:
        stop_process(proc)
        print(log.read_text()[-2000:], file=sys.stderr)
        raise
    return served


def start_ceiling(app: str, workdir: Path) -> Served:
    """Start bench/ceiling_app.py's `app` ("raw" or "fastapi") under uvicorn as checkd runs it."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"ceiling-{app}.log"
    argv = [str(VENV_BIN / "python"), "-m", "uvicorn", "--app-dir", str(BENCH_DIR), f"ceiling_app:{app}"]
    argv += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir)
    served = Served(f"ceiling {app}", proc, port, workdir, log)
    try:
        wait_http(served.url("/api/v2/checks/latest"), proc)
    except Exception:
        stop_process(proc)
        raise
    return served


@contextlib.contextmanager
def temp_dir(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A temporary directory under /tmp, removed afterwards unless `keep`."""
    path = Path(tempfile.mkdtemp(prefix=f"checkd-bench-{prefix}-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# -- wrk ------------------------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(
    url: str, *, threads: int = 2, conns: int = 16, seconds: int = 10, script: str | None = None
) -> dict[str, Any]:
    """Run `wrk -tT -cC -dDs --latency [-s SCRIPT] URL`; requests/s, latency p50/p99 in ms, non-2xx."""
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
    argv += ["-s", script, url] if script else [url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat: dict[str, float] = {}
    for q in ("50", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            lat[f"p{q}_ms"] = round(float(m.group(1)) * _UNITS[m.group(2)], 3)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": rps,
        **lat,
        "requests": int(total.group(1)) if total else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else None,
        "argv": " ".join(argv),
    }


# -- bulk loading ---------------------------------------------------------------------------------
def bulk_load(url: str, n: int, *, host: str = HOST_NAME, services: int = 1) -> float:
    """Load `n` synthetic one-per-second checks for `host` ending now into the SQLite file of `url`
    (bench/bulk_load.py, the one loader of bench/); return the seconds it took, migration included."""
    import bulk_load as loader  # imports this module: import it late

    path = Path(url.removeprefix("sqlite:///"))
    return loader.bulk_load(path, n, host=host, services=services).seconds


def wal_checkpoint(db_path: Path) -> None:
    """Fold the WAL into the main database file (so its size counts everything)."""
    import sqlite3

    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def count_checks(db_path: Path, since: int | None = None) -> int:
    """Rows in `checks` (taken at or after `since`), read with a separate read-only connection."""
    import sqlite3

    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        if since is None:
            return int(con.execute("SELECT count(*) FROM checks").fetchone()[0])
        return int(con.execute("SELECT count(*) FROM checks WHERE taken_at >= ?", (since,)).fetchone()[0])
    finally:
        con.close()
