"""Commands that go through the running server: sampler and service control."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from checkd.cli.common import Sources, fail, takes_sources

sampler_app = typer.Typer(help="Control the running server's sampler.", no_args_is_help=True)
service_app = typer.Typer(help="Services: list, status, start, stop, restart.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="a configured service name, e.g. httpd")]


def call_server(sources: Sources, method: str, path: str, ok: tuple[int, ...] = ()) -> Any:
    """`method path` on the running server with the stored token; exit with one line on any failure."""
    # httpx is imported only by the commands that talk to a server, not by `checkd serve`.
    from checkd.auth import TokenError
    from checkd.client import ApiError, CheckdClient, ServerUnavailable

    try:
        client = CheckdClient(sources.settings(), url=sources.url)
    except ValueError as exc:
        fail(f"--url: {exc}")
    except TokenError as exc:
        fail(str(exc))
    try:
        return client.request(method, path, ok_statuses=ok)
    except ServerUnavailable as exc:
        fail(str(exc), 1)
    except ApiError as exc:
        fail(f"{exc.status} {exc.detail}", 1)
    finally:
        client.close()


def _print_sampler(body: dict[str, Any]) -> None:
    state = "running" if body["running"] else "stopped"
    msg = f" ({body['message']})" if body.get("message") else ""
    typer.echo(
        f"sampler {state}{msg}; interval {body['interval_s']}s; last check {body['last_check_at'] or '-'}"
    )
    typer.echo(
        f"checks {body['checks_total']}, errors {body['errors_total']}, "
        f"pending writes {body['pending_writes']}"
    )
    if body.get("last_error"):
        typer.echo(f"last error: {body['last_error']}")


@sampler_app.command("start")
@takes_sources(url=True)
def sampler_start(sources: Sources) -> None:
    """Start the sampler (no-op when it runs)."""
    _print_sampler(call_server(sources, "POST", "/api/v2/sampler/start"))


@sampler_app.command("stop")
@takes_sources(url=True)
def sampler_stop(sources: Sources) -> None:
    """Stop the sampler (no-op when stopped)."""
    _print_sampler(call_server(sources, "POST", "/api/v2/sampler/stop"))


@sampler_app.command("status")
@takes_sources(url=True)
def sampler_status(sources: Sources) -> None:
    """Show the sampler's state and counters."""
    _print_sampler(call_server(sources, "GET", "/api/v2/sampler"))


@service_app.command("list")
@takes_sources(url=True)
def service_list(sources: Sources) -> None:
    """List configured services and their state."""
    # rich is imported here, not at the top: `checkd serve` imports this module too (~1.7 MiB).
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "unit", "state", "control")
    for s in call_server(sources, "GET", "/api/v2/services"):
        table.add_row(s["name"], s["unit"] or "-", s["state"], "yes" if s["control"] else "no")
    Console().print(table)


@service_app.command("status")
@takes_sources(url=True)
def service_status(name: NameArg, sources: Sources) -> None:
    """Show one service's state."""
    s = call_server(sources, "GET", f"/api/v2/services/{name}")
    unit = f" ({s['unit']})" if s["unit"] else ""
    typer.echo(f"{s['name']}{unit}: {s['state']}")


def _act(action: str, name: str, sources: Sources) -> None:
    r = call_server(sources, "POST", f"/api/v2/services/{name}/{action}", ok=(502, 504))
    typer.echo(
        f"{r['service']} {action}: {'ok' if r['ok'] else 'FAILED'}; state {r['state']}; "
        f"exit {r['exit_code']}; {r['duration_ms']} ms; {r['message']}"
    )
    if not r["ok"]:
        if r["output"]:
            typer.echo(r["output"].rstrip(), err=True)
        raise typer.Exit(1)


@service_app.command("start")
@takes_sources(url=True)
def service_start(name: NameArg, sources: Sources) -> None:
    """Start a service through the server (recorded in the audit log as `cli`)."""
    _act("start", name, sources)


@service_app.command("stop")
@takes_sources(url=True)
def service_stop(name: NameArg, sources: Sources) -> None:
    """Stop a service through the server."""
    _act("stop", name, sources)


@service_app.command("restart")
@takes_sources(url=True)
def service_restart(name: NameArg, sources: Sources) -> None:
    """Restart a service through the server."""
    _act("restart", name, sources)
