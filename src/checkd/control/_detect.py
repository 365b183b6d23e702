"""What this machine has: its init system and which unit the `httpd` alias stands for."""

from __future__ import annotations

from pathlib import Path

SYSTEMD_UNIT_DIRS = (
    "etc/systemd/system",
    "run/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
)
HTTPD_ALIAS = "httpd"


def detect_init_system(proc: Path = Path("/proc")) -> str:
    """ "systemd" when PID 1's comm is systemd, otherwise "sysv"."""
    try:
        comm = (proc / "1" / "comm").read_text().strip()
    except OSError:
        return "sysv"
    return "systemd" if comm == "systemd" else "sysv"


def has_unit(unit: str, root: Path = Path("/")) -> bool:
    """True when `unit` has a systemd unit file or an /etc/init.d script under `root`."""
    if (root / "etc/init.d" / unit).exists():
        return True
    name = unit if "." in unit else f"{unit}.service"
    return any((root / d / name).exists() for d in SYSTEMD_UNIT_DIRS)


def resolve_unit(name: str, unit: str | None, root: Path = Path("/")) -> str:
    """The unit for service `name`: the configured one, else `httpd` -> httpd or apache2, else the name."""
    if unit is not None:
        return unit
    if name == HTTPD_ALIAS:
        return "httpd" if has_unit("httpd", root) else "apache2"
    return name
