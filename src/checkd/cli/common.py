"""Options every command takes (given once, as `Sources`), settings loading and one-line fatal errors."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from checkd.config import ConfigError, Settings, load_settings

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (env: CHECKD_CONFIG)", show_default=False),
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="where the database and token live", show_default=False)
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="sqlite:///PATH or postgresql+psycopg://...", show_default=False),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="the server, e.g. http://127.0.0.1:9000 (default: [server] host/port of the config and env)",
        show_default=False,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    typer.echo(f"checkd: {message}", err=True)
    raise typer.Exit(code)


def setup_logging(level: str = "INFO") -> None:
    """Logs go to stderr with their level."""
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def settings_from(
    config: Path | None, data_dir: Path | None, database_url: str | None, **flags: Any
) -> Settings:
    """Settings from the file, env and these flags; a bad value exits with one line naming the key."""
    extra: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    if data_dir is not None:
        extra["data_dir"] = data_dir
    if database_url is not None:
        extra.setdefault("database", {})["url"] = database_url
    try:
        return load_settings(config, **extra)
    except ConfigError as exc:
        fail(str(exc))


@dataclass(frozen=True)
class Sources:
    """Where a command's settings come from: --config, --data-dir, --database-url (and --url, the server)."""

    config: Path | None = None
    data_dir: Path | None = None
    database_url: str | None = None
    url: str | None = None

    def settings(self, **flags: Any) -> Settings:
        """Settings from these sources and `flags` (see `settings_from`)."""
        return settings_from(self.config, self.data_dir, self.database_url, **flags)

    def or_(self, fallback: Sources) -> Sources:
        """These sources, each one not given taken from `fallback` (options given before a subcommand)."""
        return Sources(**{f.name: getattr(self, f.name) or getattr(fallback, f.name) for f in fields(self)})


_OPTION_TYPES: dict[str, Any] = {
    "config": ConfigOpt,
    "data_dir": DataDirOpt,
    "database_url": DatabaseUrlOpt,
    "url": UrlOpt,
}


def takes_sources(*, url: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator giving a command the --config, --data-dir and --database-url options (and --url
    with `url`), passed to it as one keyword argument `sources: Sources`."""
    names = [name for name in _OPTION_TYPES if url or name != "url"]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = [
            p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "sources"
        ]
        options = [
            inspect.Parameter(
                name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=_OPTION_TYPES[name]
            )
            for name in names
        ]

        @functools.wraps(command)
        def with_sources(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in names}
            return command(*args, sources=Sources(**given), **kwargs)

        # Typer reads a command's options from its signature and type hints.
        signature = inspect.Signature([*own, *options], return_annotation=None)
        with_sources.__signature__ = signature  # type: ignore[attr-defined]
        with_sources.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        return with_sources

    return decorate
