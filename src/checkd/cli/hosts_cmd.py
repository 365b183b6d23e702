"""`checkd hosts add|revoke NAME`: the ingest token of one fleet host (`checkd agent` pushes with it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from checkd.cli.common import Sources, fail, takes_sources
from checkd.cli.tokens import migrated_engine
from checkd.tokens import token_name_ok

if TYPE_CHECKING:
    from sqlalchemy import Engine

hosts_app = typer.Typer(help="Ingest tokens of fleet hosts: each pushes only its own host's checks.")

HostArg = Annotated[str, typer.Argument(help="the host's name, as its agent reports it", show_default=False)]


def ingest_token_name(host: str) -> str:
    """The named token that holds `host`'s ingest token."""
    return f"ingest-{host}"


def _token_store(ctx: typer.Context, host: str, sources: Sources) -> tuple[str, Engine]:
    """`host`'s ingest token name (exits when checkd takes no such name) and the migrated store."""
    name = ingest_token_name(host)
    if not token_name_ok(name):
        fail(f"NAME: {host!r} is not a host name checkd takes (letters, digits and ._-, at most 57)")
    return name, migrated_engine(ctx, sources)


@hosts_app.command("add")
@takes_sources()
def add(ctx: typer.Context, name: HostArg, *, sources: Sources) -> None:
    """Create host NAME's ingest token and print it once (only its SHA-256 hash is stored)."""
    from sqlalchemy.exc import SQLAlchemyError

    from checkd.store.tokens import TokenNameTaken, create_token

    token_name, engine = _token_store(ctx, name, sources)
    try:
        with engine.begin() as conn:
            secret = create_token(conn=conn, name=token_name, scope="ingest", host=name)
    except TokenNameTaken:
        fail(f"NAME: host {name!r} has an ingest token already (`checkd hosts revoke {name}` first)")
    except SQLAlchemyError as exc:
        fail(f"database: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
    typer.echo(secret)
    typer.echo(f"checkd: ingest token for host {name!r} created; it is shown only this once", err=True)


@hosts_app.command("revoke")
@takes_sources()
def revoke(ctx: typer.Context, name: HostArg, *, sources: Sources) -> None:
    """Revoke host NAME's ingest token at once: its agent's pushes get 401 and it spools."""
    from checkd.store.tokens import revoke_token

    token_name, engine = _token_store(ctx, name, sources)
    with engine.begin() as conn:
        if not revoke_token(conn=conn, name=token_name):
            fail(f"NAME: host {name!r} has no ingest token")
    typer.echo(f"revoked the ingest token of {name}")
