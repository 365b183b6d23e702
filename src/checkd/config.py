"""Settings: the only module that reads the environment (TOML file, CHECKD_* env, CLI flags)."""

from __future__ import annotations

import os
import re
import socket
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from checkd.config_alerts import AlertRuleSettings, AlertsSettings, NotifySettings
from checkd.config_probes import ProbesSettings
from checkd.service_fields import ServiceFields
from checkd.vocabulary import DEVICE_NAME_RE, service_name_ok

# An interface or block device name as the kernel allows it (no "/", no spaces), or "*".
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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    """`[server]`: where the API listens and which Host headers it accepts."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    allowed_hosts: list[str] = Field(default_factory=list)
    max_body: int = Field(1024 * 1024, ge=1024, le=1024**3, description="largest request body, bytes")
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_plaintext: bool = False  # serve plain HTTP on a non-loopback address anyway
    # Seconds an idle kept-alive connection stays open: longer than an agent's default
    # --push-every, so a pushing agent keeps one connection (agent/collector.py MAX_IDLE_S).
    keep_alive: int = Field(20, ge=1, le=3600)

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            missing = "tls_key" if self.tls_key is None else "tls_cert"
            raise ValueError(f"tls_cert and tls_key go together; {missing} is missing")
        return self


class SamplerSettings(_Section):
    """`[sampler]`: cadence and what each check covers."""

    interval: int = Field(60, ge=1, le=86400)
    autostart: bool = True
    disk_paths: list[str] = Field(default_factory=lambda: ["/"], min_length=1)
    # Network interfaces and block devices read on each check ("*": every one but loopback and
    # virtual ones; [] reads none). Swap, inodes, processes and load per core are always read.
    net_interfaces: list[str] = Field(default_factory=lambda: ["*"])
    disk_devices: list[str] = Field(default_factory=lambda: ["*"])

    @field_validator("disk_paths")
    @classmethod
    def _absolute(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} is not an absolute path")
        return paths

    @field_validator("net_interfaces", "disk_devices")
    @classmethod
    def _device_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not DEVICE_NAME_RE.match(name):
                raise ValueError(f'{name!r} is not a device name (letters, digits, . - _ : @) or "*"')
        return list(dict.fromkeys(names))


class DatabaseSettings(_Section):
    """`[database]`: SQLAlchemy URL; empty means SQLite in the data dir."""

    url: str = ""

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str) -> str:
        if url and url.split(":", 1)[0] not in DB_SCHEMES:
            raise ValueError(f"unknown scheme in {url.split(':', 1)[0]!r}; accepts {', '.join(DB_SCHEMES)}")
        return url


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class ServiceSettings(ServiceFields):
    """`[services.NAME]`: one watched service and how to control it (the keys of ServiceFields)."""

    backend: Literal["auto", "systemd", "sysv", "command"] = "auto"
    timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0

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
    failure_limit: int = Field(
        10, ge=1, le=100000, description="failed authentications per minute per client"
    )

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


# The TOML file `load_settings` was given; a context variable so that Settings' sources can find
# it without a class per file.
_toml_file: ContextVar[Path | None] = ContextVar("checkd_toml_file", default=None)


class Settings(BaseSettings):
    """All of checkd's settings; flags win over env (CHECKD_*, `__` between levels), env over the file."""

    model_config = SettingsConfigDict(
        env_prefix="CHECKD_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

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
    probes: ProbesSettings = Field(default_factory=ProbesSettings)

    @field_validator("services")
    @classmethod
    def _service_names(cls, services: dict[str, ServiceSettings]) -> dict[str, ServiceSettings]:
        for name in services:
            if not service_name_ok(name):
                raise ValueError(f"{name!r}: letters, digits and .-_@ only, at most 100 characters")
        if "httpd" not in services:
            services = {"httpd": ServiceSettings(), **services}
        return services

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init arguments) win over CHECKD_* env, env over the TOML file; no dotenv."""
        toml = _toml_file.get()
        if toml is None:
            return init_settings, env_settings
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml)

    @model_validator(mode="after")
    def _probes_consistent(self) -> Settings:
        """Endpoint checks: unique names, a timeout within the interval."""
        found = self.probes.problem()
        if found is not None:
            raise ValueError(f"{found[0]}: {found[1]}")
        return self

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


def _check_toml(path: Path) -> None:
    """Refuse an unreadable or malformed file with one line (the TOML source would raise raw errors)."""
    try:
        with path.open("rb") as fh:
            tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from exc


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


# pydantic-settings names the top-level field whose env value failed to parse as JSON.
_FIELD_IN_SETTINGS_ERROR = re.compile(r'field "([^"]+)"')


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Build Settings from the TOML file, then CHECKD_* env, then flags; raise ConfigError on a bad value."""
    path = config_file or (Path(os.environ["CHECKD_CONFIG"]) if os.environ.get("CHECKD_CONFIG") else None)
    if path is not None:
        _check_toml(path)
    init: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    if os.environ.get("CHECKD_TOKEN"):  # a short alias of CHECKD_AUTH__TOKEN
        init.setdefault("auth", {})["token"] = os.environ["CHECKD_TOKEN"]
    reset = _toml_file.set(path)
    try:
        return Settings(**init)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    except SettingsError as exc:  # e.g. CHECKD_SAMPLER__DISK_PATHS that is not a JSON list
        found = _FIELD_IN_SETTINGS_ERROR.search(str(exc))
        field = found.group(1) if found else ""
        names = sorted(k for k in os.environ if k.upper().startswith(f"CHECKD_{field.upper()}") and field)
        where = " or ".join(names) or "a CHECKD_* variable"
        why = f"{where} is not valid JSON ({exc.__cause__})"
        raise ConfigError(f"config: {field or 'environment'}: {why}") from None
    finally:
        _toml_file.reset(reset)
