"""Settings: the only module that reads the environment (TOML file, CHECKD_* env, CLI flags)."""

from __future__ import annotations

import os
import re
import socket
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from checkd.config_alerts import AlertRuleSettings, AlertsSettings, NotifySettings

SERVICE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_@]{0,99}$")
DURATION_RE = re.compile(r"^(\d+)\s*([smhdwy])$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class ConfigError(Exception):
    """A configuration value that stops start-up; the message is one line naming the key."""


def parse_duration(value: str | int) -> int:
    """Return seconds for a duration like "30d", "12h", "90s" or a bare number of seconds."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("must be >= 0")
        return value
    match = DURATION_RE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 90s, 15m, 12h, 30d, 5y")
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


def default_data_dir() -> Path:
    """`/var/lib/checkd` as root, otherwise the user's XDG data dir."""
    if os.geteuid() == 0:
        return Path("/var/lib/checkd")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "checkd"


def service_name_ok(name: str) -> bool:
    """True when `name` is a valid service name: letters, digits and `.-_@`, at most 100 chars."""
    return bool(SERVICE_NAME_RE.match(name))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    """`[server]`: where the API listens and which Host headers it accepts."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    allowed_hosts: list[str] = Field(default_factory=list)


class SamplerSettings(_Section):
    """`[sampler]`: cadence and what each check covers."""

    interval: int = Field(60, ge=1, le=86400)
    autostart: bool = True
    disk_paths: list[str] = Field(default_factory=lambda: ["/"], min_length=1)

    @field_validator("disk_paths")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} is not an absolute path")
        return paths


class DatabaseSettings(_Section):
    """`[database]`: SQLAlchemy URL; empty means SQLite in the data dir."""

    url: str = ""

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str) -> str:
        if url and url.split(":", 1)[0] not in DB_SCHEMES:
            raise ValueError(f"unknown scheme in {url.split(':', 1)[0]!r}; accepts {', '.join(DB_SCHEMES)}")
        return url


class ServiceSettings(_Section):
    """`[services.NAME]`: one watched service and how to control it."""

    unit: str | None = None
    control: bool = True
    backend: Literal["auto", "systemd", "sysv", "command"] = "auto"
    pidfile: Path | None = None
    match: str | None = None
    start: list[str] | None = None
    stop: list[str] | None = None
    restart: list[str] | None = None
    status: list[str] | None = None
    timeout: float = Field(30.0, gt=0, le=3600)

    @field_validator("unit")
    @classmethod
    def _unit_name(cls, unit: str | None) -> str | None:
        if unit is not None and not service_name_ok(unit):
            raise ValueError("letters, digits and .-_@ only, at most 100 characters")
        return unit


class AuthSettings(_Section):
    """`[auth]`: API token and whether reads need it too."""

    token: SecretStr | None = None
    protect_reads: bool = False

    @field_validator("token")
    @classmethod
    def _token_strength(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None or token.get_secret_value() == "":
            return None  # empty means "generate one"
        if len(token.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (or empty to generate one)")
        return token


class RetentionSettings(_Section):
    """`[retention]`: how long each tier is kept (durations like 30d)."""

    raw: str = "30d"
    minute: str = "180d"
    hour: str = "5y"

    @field_validator("raw", "minute", "hour")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) < 3600:
            raise ValueError("must be at least 1h")
        return value

    def seconds(self, tier: Literal["raw", "minute", "hour"]) -> int:
        """The retention of `tier` in seconds."""
        return parse_duration(getattr(self, tier))


def _default_services() -> dict[str, ServiceSettings]:
    return {"httpd": ServiceSettings()}


class Settings(BaseModel):
    """All of checkd's settings; flags win over env, env over the TOML file."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
    # A plain model, not pydantic-settings' BaseSettings (~1.3 MiB of RSS in the server):
    # load_settings merges file < env (CHECKD_*, `__` between levels) < flags itself.

    data_dir: Path = Field(default_factory=default_data_dir)
    host_name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=255)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    server: ServerSettings = Field(default_factory=ServerSettings)
    sampler: SamplerSettings = Field(default_factory=SamplerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    services: dict[str, ServiceSettings] = Field(default_factory=_default_services)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @field_validator("services")
    @classmethod
    def _service_names(cls, services: dict[str, ServiceSettings]) -> dict[str, ServiceSettings]:
        for name in services:
            if not service_name_ok(name):
                raise ValueError(f"{name!r}: letters, digits and .-_@ only, at most 100 characters")
        if "httpd" not in services:
            services = {"httpd": ServiceSettings(), **services}
        return services

    @model_validator(mode="after")
    def _alerts_consistent(self) -> Settings:
        """Rules and targets checked against each other and the other sections."""
        sections: list[tuple[str, list[Any]]] = [
            ("alerts.rules", self.alerts.rules),
            ("notify.targets", self.notify.targets),
        ]
        for section, items in sections:
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.name in seen:
                    raise ValueError(f"{section}.{i}.name: duplicate name {item.name!r}")
                seen.add(item.name)
                found = item.problem(self) if isinstance(item, AlertRuleSettings) else item.problem()
                if found is not None:
                    raise ValueError(f"{section}.{i}.{found[0]}: {found[1]}")
        return self

    @property
    def database_url(self) -> str:
        """The effective database URL (SQLite in the data dir unless configured)."""
        return self.database.url or f"sqlite:///{self.data_dir / 'checkd.db'}"

    @property
    def token_path(self) -> Path:
        """Where a generated API token is kept."""
        return self.data_dir / "api-token"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from exc


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides() -> dict[str, Any]:
    """CHECKD_SECTION__KEY=value pairs as a nested dict (values parsed as JSON when possible)."""
    import json

    out: dict[str, Any] = {}
    for key, raw in os.environ.items():
        if not key.startswith("CHECKD_") or key in ("CHECKD_CONFIG", "CHECKD_TOKEN"):
            continue
        parts = key[len("CHECKD_") :].lower().split("__")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, (int, float)) and parts[-1] in ("url", "host", "host_name", "token", "unit"):
            value = raw
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    got = err.get("input")
    secret = "token" in key or "url" in key  # never echo credentials
    got_text = "" if isinstance(got, dict) or secret else f" (got {got!r})"
    msg = err["msg"].removeprefix("Value error, ")
    if not key:  # a check across sections: the message starts with the key itself
        return f"config: {msg}"
    return f"config: {key}: {msg}{got_text}"


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Build Settings from the TOML file, then CHECKD_* env, then flags; raise ConfigError on a bad value."""
    path = config_file or (Path(os.environ["CHECKD_CONFIG"]) if os.environ.get("CHECKD_CONFIG") else None)
    data: dict[str, Any] = _read_toml(path) if path else {}
    data = _deep_merge(data, _env_overrides())
    if os.environ.get("CHECKD_TOKEN"):
        data = _deep_merge(data, {"auth": {"token": os.environ["CHECKD_TOKEN"]}})
    data = _deep_merge(data, {k: v for k, v in flags.items() if v is not None})
    try:
        # Sources are already merged by hand (file < env < flags), so env is not read twice.
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
