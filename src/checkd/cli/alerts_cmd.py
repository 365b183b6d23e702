"""`checkd alerts` and `checkd notify test`: through the running server's API."""

from __future__ import annotations

from typing import Annotated

import typer

from checkd.cli.common import Sources, fail, takes_sources
from checkd.cli.remote import call_server
from checkd.vocabulary import ALERT_STATES

notify_app = typer.Typer(help="Notifications: send a test to every target.", no_args_is_help=True)


@takes_sources(url=True)
def alerts(
    state: Annotated[
        str | None, typer.Option(help="only alerts in this state: pending, firing, gave-up or resolved")
    ] = None,
    limit: Annotated[int, typer.Option(help="how many, newest first", min=1, max=1000)] = 50,
    *,
    sources: Sources,
) -> None:
    """List alerts, newest first (firing and gave-up ones are what needs a look)."""
    from rich.console import Console
    from rich.table import Table

    if state is not None and state not in ALERT_STATES:
        fail(f"--state: {state!r} is not one of {', '.join(ALERT_STATES)}")
    query = f"?limit={limit}" + (f"&state={state}" if state else "")
    page = call_server(sources, "GET", f"/api/v2/alerts{query}")
    table = Table("id", "rule", "host", "severity", "state", "since", "summary")
    for a in page["items"]:
        table.add_row(
            str(a["id"]), a["rule"], a["host"], a["severity"], a["state"], a["started_at"], a["summary"]
        )
    Console().print(table)
    if not page["items"]:
        typer.echo("no alerts" + (f" in state {state}" if state else ""))


@notify_app.command("test")
@takes_sources(url=True)
def notify_test(sources: Sources) -> None:
    """Send a test alert to every configured target and show each answer; exit 1 if any failed."""
    results = call_server(sources, "POST", "/api/v2/notify/test")
    if not results:
        typer.echo("no notify targets configured ([[notify.targets]])")
    for r in results:
        typer.echo(f"{r['target']}: {'ok' if r['ok'] else 'FAILED'} in {r['duration_ms']} ms; {r['detail']}")
    if any(not r["ok"] for r in results):
        raise typer.Exit(1)
