"""`checkd probes`: the endpoint checks' latest results, through the running server's API."""

from __future__ import annotations

import typer

from checkd.cli.common import Sources, takes_sources
from checkd.cli.remote import call_server


def _cell(value: object) -> str:
    return "" if value is None else str(value)


@takes_sources(url=True)
def probes(sources: Sources) -> None:
    """List the endpoint checks ([[probes.http]], [[probes.tcp]]) and their latest results; exit 1
    when one is down."""
    from rich.console import Console
    from rich.table import Table

    rows = call_server(sources, "GET", "/api/v2/probes")
    if not rows:
        typer.echo("no endpoint checks configured ([[probes.http]], [[probes.tcp]])")
        return
    table = Table("name", "kind", "target", "up", "latency ms", "status", "cert days", "error", "checked at")
    for p in rows:
        up = "not run yet" if p["up"] is None else ("up" if p["up"] else "DOWN")
        table.add_row(
            p["name"], p["kind"], p["target"], up, _cell(p["latency_ms"]), _cell(p["status_code"]),
            _cell(p["cert_days_left"]), _cell(p["error"]), _cell(p["checked_at"]),
        )  # fmt: skip
    Console(width=200).print(table)
    if any(p["up"] is False for p in rows):
        raise typer.Exit(1)
