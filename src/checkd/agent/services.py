"""The agent's `[services.NAME]` sections and `[sampler]` device picks, read from the same TOML as
`checkd serve`'s (tomllib only)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from checkd.probes.devices import ALL
from checkd.service_fields import ServiceFields
from checkd.vocabulary import DEVICE_NAME_RE, service_name_ok

BACKENDS = ("auto", "systemd", "sysv", "command")
_ARGVS = ("start", "stop", "restart", "status")


AgentService = ServiceFields  # one watched service, as `checkd serve`'s config reads it


class ServicesError(ValueError):
    """A bad `[services]` value; the message names the key."""


def _argv(value: object, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(a, str) and a for a in value):
        raise ServicesError(f"{key}: must be a non-empty list of strings (an argv, never a shell line)")
    return list(value)


def _service(name: str, raw: dict[str, Any]) -> AgentService:
    key = f"services.{name}"
    unknown = set(raw) - {f for f in AgentService.__dataclass_fields__}
    if unknown:
        raise ServicesError(f"{key}.{sorted(unknown)[0]}: unknown key")
    values: dict[str, Any] = {}
    for field, value in raw.items():
        where = f"{key}.{field}"
        if field in _ARGVS:
            values[field] = _argv(value, where)
        elif field == "control":
            if not isinstance(value, bool):
                raise ServicesError(f"{where}: must be true or false")
            values[field] = value
        elif field == "backend":
            if value not in BACKENDS:
                raise ServicesError(f"{where}: one of {', '.join(BACKENDS)}")
            values[field] = value
        elif field == "timeout":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
                raise ServicesError(f"{where}: seconds, more than 0 and at most 3600")
            values[field] = float(value)
        elif not isinstance(value, str) or not value:
            raise ServicesError(f"{where}: must be a non-empty string")
        elif field == "unit" and not service_name_ok(value):
            raise ServicesError(f"{where}: letters, digits and .-_@ only, at most 100 characters")
        else:
            values[field] = Path(value) if field == "pidfile" else value
    return AgentService(**values)


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML file `path` as a dict; ServicesError saying why it cannot be read."""
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ServicesError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ServicesError(f"{path} is not valid TOML: {exc}") from None


def load_devices(path: Path) -> tuple[list[str], list[str]]:
    """`[sampler] net_interfaces` and `disk_devices` of TOML file `path` (each `["*"]` when unset,
    as for `checkd serve`); ServicesError naming a bad key."""
    section = read_toml(path).get("sampler", {})
    if not isinstance(section, dict):
        raise ServicesError("sampler: must be a table")
    picked: list[list[str]] = []
    for key in ("net_interfaces", "disk_devices"):
        names = section.get(key, [ALL])
        if not isinstance(names, list) or not all(
            isinstance(n, str) and DEVICE_NAME_RE.match(n) for n in names
        ):
            raise ServicesError(f'sampler.{key}: a list of device names (letters, digits, . - _ : @) or "*"')
        picked.append(list(dict.fromkeys(names)))
    return picked[0], picked[1]


def load_services(path: Path) -> dict[str, AgentService]:
    """The services configured in TOML file `path` (other sections are ignored); ServicesError."""
    section = read_toml(path).get("services", {})
    if not isinstance(section, dict):
        raise ServicesError("services: must be a table of [services.NAME] sections")
    out = {}
    for name, raw in section.items():
        if not service_name_ok(name) or not isinstance(raw, dict):
            raise ServicesError(f"services.{name}: not a valid service name or section")
        out[name] = _service(name, raw)
    return out
