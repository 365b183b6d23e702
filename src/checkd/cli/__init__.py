"""The `checkd` command line."""

from __future__ import annotations

import typer

from checkd.cli import alerts_cmd, history_cmd, hosts_cmd, import_cmd, local, probes_cmd, remote, tokens

app = typer.Typer(
    help="checkd: host health checks with SQL history, an HTTP API, dashboard, metrics and a CLI.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(local.serve)
app.command()(local.check)
app.command("import-legacy")(import_cmd.import_legacy_cmd)
app.command()(history_cmd.history)
app.add_typer(local.db_app, name="db")
app.add_typer(tokens.token_app, name="token")
app.add_typer(hosts_cmd.hosts_app, name="hosts")
app.add_typer(remote.sampler_app, name="sampler")
app.add_typer(remote.service_app, name="service")
app.command()(alerts_cmd.alerts)
app.add_typer(alerts_cmd.notify_app, name="notify")
app.command()(probes_cmd.probes)


def main() -> None:
    """Console-script entry point."""
    app()
