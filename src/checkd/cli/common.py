"""Options every command takes, settings loading and one-line fatal errors."""

from __future__ import annotations

import logging
import sys
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
