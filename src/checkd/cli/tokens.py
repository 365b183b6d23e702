"""`checkd token`: print the admin token; create, list and revoke named tokens with scopes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from checkd.cli.common import Sources, fail, takes_sources
from checkd.tokens import SCOPES, token_name_ok

if TYPE_CHECKING:
    from sqlalchemy import Engine

token_app = typer.Typer(
    help="Print the admin API token (generated on first use), or manage named tokens with scopes.",
    invoke_without_command=True,
)

NameArg = Annotated[str, typer.Argument(help="the token's name", show_default=False)]


@token_app.callback()
@takes_sources()
def token(ctx: typer.Context, *, sources: Sources) -> None:
    """Print the admin API token (generating and saving it on first use)."""
    if ctx.invoked_subcommand is not None:
        # `checkd token --data-dir D list`: the subcommand falls back to these options.
        ctx.obj = sources
        return
    from checkd.auth import TokenError, ensure_token

    try:
        value, _ = ensure_token(sources.settings())
    except TokenError as exc:
        fail(str(exc))
    typer.echo(value)


def migrated_engine(ctx: typer.Context, sources: Sources) -> Engine:
    """The store the options (or those given before the subcommand) name, migrated to head."""
    from checkd.db import DatabaseError, make_engine, migrate

    settings = sources.or_(ctx.obj or Sources()).settings()
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except DatabaseError as exc:
        fail(str(exc))
    return engine


@token_app.command("create")
@takes_sources()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="a unique name (letters, digits, ._-; at most 64)")],
    scope: Annotated[str, typer.Option("--scope", help=f"one of {', '.join(SCOPES)}")],
    host: Annotated[str | None, typer.Option("--host", help="ingest tokens: the one host they write")] = None,
    *,
    sources: Sources,
) -> None:
    """Create a named token and print it once (only its SHA-256 hash is stored)."""
    from sqlalchemy.exc import SQLAlchemyError

    from checkd.store.tokens import TokenNameTaken, create_token

    if not token_name_ok(name):
        fail(f"--name: {name!r} is not a token name (letters, digits and ._-, at most 64)")
    if scope not in SCOPES:
        fail(f"--scope: {scope!r} is not a scope; accepts {', '.join(SCOPES)}")
    if host is not None and not 1 <= len(host) <= 255:
        fail("--host: 1..255 characters")
    if (scope == "ingest") != (host is not None):
        fail(
            "--host: an ingest token needs --host (the one host it writes), and only an ingest token takes it"
        )
    engine = migrated_engine(ctx, sources)
    try:
        with engine.begin() as conn:
            secret = create_token(conn=conn, name=name, scope=scope, host=host)
    except TokenNameTaken:
        fail(f"--name: a token named {name!r} exists already (revoke it first)")
    except SQLAlchemyError as exc:
        fail(f"database: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
    typer.echo(secret)
    typer.echo(f"checkd: token {name!r} ({scope}) created; it is shown only this once", err=True)


@token_app.command("revoke")
@takes_sources()
def revoke(ctx: typer.Context, name: NameArg, *, sources: Sources) -> None:
    """Revoke the named token NAME at once (the admin token is changed in the config or token file)."""
    from checkd.store.tokens import revoke_token

    engine = migrated_engine(ctx, sources)
    with engine.begin() as conn:
        if not revoke_token(conn=conn, name=name):
            fail(f"NAME: no token named {name!r}")
    typer.echo(f"revoked {name}")


@token_app.command("list")
@takes_sources()
def list_cmd(ctx: typer.Context, *, sources: Sources) -> None:
    """List named tokens: name, scope, host and creation time (never the token)."""
    from checkd.store.tokens import list_tokens

    engine = migrated_engine(ctx, sources)
    with engine.connect() as conn:
        tokens = list_tokens(conn=conn)
    if not tokens:
        typer.echo("no named tokens (the admin token is printed by `checkd token`)")
        return
    typer.echo(f"{'NAME':<24} {'SCOPE':<8} {'HOST':<20} CREATED")
    for t in tokens:
        created = datetime.fromtimestamp(t.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        typer.echo(f"{t.name:<24} {t.scope:<8} {t.host or '-':<20} {created}")
