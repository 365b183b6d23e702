"""SysV backend: actions through `service UNIT ACTION`, state from the pidfile plus /proc without a spawn."""

from __future__ import annotations

import os
import re
from pathlib import Path

from checkd.control._base import Action, configured_argv, status_timeout
from checkd.control._runner import CommandRunner
from checkd.control._spec import ServiceSpec
from checkd.control._states import pidfile_state, state_from_lsb
from checkd.vocabulary import ServiceState

_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _under(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _apache_instance(unit: str) -> tuple[str, str] | None:
    """(config dir, SUFFIX) for Debian's apache2 and its apache2@NAME instances; None for other units."""
    if unit == "apache2":
        return "/etc/apache2", ""
    if unit.startswith("apache2@") and len(unit) > len("apache2@"):
        instance = unit[len("apache2@") :]
        return f"/etc/apache2-{instance}", f"-{instance}"
    return None


def apache_pidfile(unit: str, root: Path = Path("/")) -> Path | None:
    """APACHE_PID_FILE from apache2's envvars (default /var/run/apache2/apache2.pid); None if not apache2."""
    instance = _apache_instance(unit)
    if instance is None:
        return None
    confdir, suffix = instance
    values = {"SUFFIX": suffix, "APACHE_CONFDIR": confdir}
    try:
        lines = _under(root, confdir + "/envvars").read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        assign = _ASSIGN_RE.match(line)
        if not assign or assign.group(1) in ("SUFFIX", "APACHE_CONFDIR"):
            continue  # SUFFIX is derived with shell parameter expansion that is not parsed here
        raw = assign.group(2).split(" #", 1)[0].strip().strip("\"'")
        values[assign.group(1)] = _VAR_RE.sub(lambda m: values.get(m.group(1) or m.group(2), ""), raw)
    pidfile = values.get("APACHE_PID_FILE", "")
    if not pidfile.startswith("/") or "$" in pidfile:
        pidfile = f"/var/run/apache2{suffix}/apache2.pid"
    return _under(root, pidfile)


def pidfile_candidates(unit: str, root: Path = Path("/")) -> tuple[Path, ...]:
    """Where a generic init script's daemon usually leaves its pidfile."""
    return (_under(root, f"/var/run/{unit}.pid"), _under(root, f"/run/{unit}.pid"))


class SysvService:
    """A service controlled with `service UNIT start|stop|restart` (an /etc/init.d script)."""

    kind = "sysv"

    def __init__(
        self, unit: str, settings: ServiceSpec, runner: CommandRunner, root: Path = Path("/")
    ) -> None:
        self.unit = unit
        self._settings = settings
        self._runner = runner
        self._script = str(_under(root, f"/etc/init.d/{unit}"))
        # Known pidfile (configured, or apache2's from envvars): its absence means "inactive".
        self._pidfile = settings.pidfile or apache_pidfile(unit, root)
        # Otherwise a conventional location is used only while it exists.
        self._candidates = () if self._pidfile else pidfile_candidates(unit, root)

    def action_argvs(self, action: Action) -> list[list[str]]:
        """The configured argv for `action`, else `service UNIT ACTION`."""
        return [configured_argv(self._settings, action) or ["service", self.unit, action]]

    def pidfile(self) -> Path | None:
        """The pidfile the state is read from right now, or None when none can be determined."""
        if self._pidfile is not None:
            return self._pidfile
        for candidate in self._candidates:
            if os.path.exists(candidate):
                return candidate
        return None

    def state(self) -> ServiceState:
        """NOT_FOUND without an init script; else the pidfile state; else `service UNIT status` (LSB)."""
        if not os.path.exists(self._script):
            return ServiceState.NOT_FOUND
        pidfile = self.pidfile()
        if pidfile is not None:
            return pidfile_state(pidfile)
        result = self._runner.run(["service", self.unit, "status"], status_timeout(self._settings))
        return state_from_lsb(result.exit_code)
