"""`checkd agent`'s command line (argparse): a bad value exits with one line naming the option."""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

DEFAULT_SPOOL_MAX = "256MiB"
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}


@dataclass(frozen=True)
class AgentOptions:
    """What one agent does."""

    collectors: list[str]
    token: str
    host: str
    interval: float = 60.0
    push_every: float = 5.0  # after a push that emptied the backlog, the next one waits this long
    spool_dir: Path | None = None
    spool_max: int = 256 * 1024**2
    disk_paths: list[str] = field(default_factory=lambda: ["/"])
    status_file: Path | None = None
    config: Path | None = None  # TOML whose [services.NAME] sections the agent watches and controls


def fail(message: str) -> NoReturn:
    """One line to stderr, exit 2."""
    print(f"checkd agent: {message}", file=sys.stderr)
    raise SystemExit(2)


def parse_size(text: str) -> int:
    """`256MiB`, `1GB`, `4096` (bytes) as bytes; ValueError otherwise."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(text)
    return int(found.group(1)) * _UNITS[(found.group(2) or "b").lower()]


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter, told its width: asking shutil for it would load shutil and the
    compression modules it imports into a process that stays up for months."""
    try:
        columns = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        columns = 80
    return argparse.HelpFormatter(prog, width=columns - 2)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="checkd agent",
        formatter_class=_help_formatter,
        description="Sample this host and push the checks to checkd collectors (POST /api/v2/ingest).",
    )
    p.add_argument(
        "--collector",
        action="append",
        required=True,
        metavar="URL",
        help="a collector's base URL, e.g. http://10.0.0.5:8080 (repeat: tried in turn)",
    )
    p.add_argument(
        "--token-file",
        type=Path,
        default=Path("/etc/checkd/agent-token"),
        help="file holding this host's ingest token (`checkd hosts add NAME` prints it)",
    )
    p.add_argument("--interval", type=float, default=60.0, help="seconds between checks (default 60)")
    p.add_argument(
        "--spool-dir",
        type=Path,
        default=Path("/var/lib/checkd-agent"),
        help="where checks wait while no collector answers (SQLite); '' for memory only",
    )
    p.add_argument(
        "--spool-max",
        default=DEFAULT_SPOOL_MAX,
        help="most bytes of waiting checks; the oldest are dropped past it (default 256MiB)",
    )
    p.add_argument("--host-name", default=None, help="this host's name (default: the system's)")
    p.add_argument(
        "--disk-path", action="append", default=None, help="a mounted path to watch (repeat; default /)"
    )
    p.add_argument(
        "--push-every",
        type=float,
        default=5.0,
        help="seconds between pushes once caught up: checks taken meanwhile go in one batch (default 5)",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML file with [services.NAME] sections, as for `checkd serve` (other sections are ignored)",
    )
    p.add_argument(
        "--status-file",
        type=Path,
        default=None,
        help="JSON status written on SIGUSR1 and at exit (default: status.json in the spool dir)",
    )
    return p


def parse_options(argv: list[str]) -> AgentOptions:
    """The options in `argv`; exits with one line naming a bad one."""
    args = _parser().parse_args(argv)
    for url in args.collector:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            fail(f"--collector: {url!r} is not an http(s) URL")
    if not 0.05 <= args.interval <= 86400:
        fail("--interval: seconds between 0.05 and 86400")
    if not 0 <= args.push_every <= 3600:
        fail("--push-every: seconds between 0 and 3600")
    try:
        spool_max = parse_size(args.spool_max)
    except ValueError:
        fail(f"--spool-max: {args.spool_max!r} is not a size like 256MiB")
    if spool_max < 64 * 1024:
        fail("--spool-max: at least 64KiB")
    try:
        token = args.token_file.read_text().strip()
    except OSError as exc:
        fail(f"--token-file: cannot read {args.token_file}: {exc.strerror or exc}")
    if not token:
        fail(f"--token-file: {args.token_file} is empty")
    host = args.host_name or socket.gethostname()
    if not 1 <= len(host) <= 255:
        fail("--host-name: 1..255 characters")
    spool_dir = args.spool_dir if str(args.spool_dir) not in ("", ".") else None
    status_file = args.status_file or (spool_dir / "status.json" if spool_dir else None)
    return AgentOptions(
        collectors=list(args.collector),
        token=token,
        host=host,
        interval=args.interval,
        push_every=args.push_every,
        spool_dir=spool_dir,
        spool_max=spool_max,
        disk_paths=list(args.disk_path or ["/"]),
        status_file=status_file,
        config=args.config,
    )
