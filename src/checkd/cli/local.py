"""Commands that work on this host and the store directly: serve, check, db."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated

import typer

from checkd.cli.common import Sources, fail, setup_logging, takes_sources

# The heavy modules (SQLAlchemy, FastAPI, uvicorn) are imported inside the commands that use
# them, so `checkd --help` and the client commands start fast.

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@takes_sources()
def serve(
    sources: Sources,
    host: Annotated[
        str | None, typer.Option(help="bind address [default: 127.0.0.1]", show_default=False)
    ] = None,
    port: Annotated[int | None, typer.Option(help="port [default: 8080]", show_default=False)] = None,
    interval: Annotated[
        int | None, typer.Option(help="seconds between checks [default: 60]", show_default=False)
    ] = None,
    host_name: Annotated[
        str | None, typer.Option(help="name to record checks under [default: hostname]")
    ] = None,
) -> None:
    """Run the API server and the sampler until SIGTERM or SIGINT."""
    from checkd.cli.server import run_server

    server: dict[str, object] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = sources.settings(
        host_name=host_name,
        server=server or None,
        sampler={"interval": interval} if interval is not None else None,
    )
    setup_logging(settings.log_level)
    run_server(settings)


@takes_sources()
def check(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False, *, sources: Sources
) -> None:
    """Take one check now and print it (no server needed; nothing is stored)."""
    from checkd.control import ServiceRegistry
    from checkd.probes import CheckProbe
    from checkd.schemas import utc

    settings = sources.settings()
    setup_logging("WARNING")
    registry = ServiceRegistry(settings.services)
    sampler = settings.sampler
    probe = CheckProbe(
        disk_paths=sampler.disk_paths,
        service_states=registry.states,
        net_interfaces=sampler.net_interfaces,
        disk_devices=sampler.disk_devices,
        host_counts=True,
    )
    time.sleep(0.25)  # cpu percent covers this quarter second
    c = probe.take_check()
    data = asdict(c)
    data.pop("id"), data.pop("host")
    data["taken_at"] = utc(c.taken_at).isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"taken_at  {data['taken_at']}")
    typer.echo(f"cpu       {c.cpu}%")
    if c.memory:
        typer.echo(f"memory    {c.memory.percent}% of {c.memory.total // 2**20} MiB used")
    if c.load:
        typer.echo(f"load      {c.load.load1:.2f} {c.load.load5:.2f} {c.load.load15:.2f}")
    for d in c.disks:
        typer.echo(f"disk      {d.path}: {d.percent}% of {d.total // 2**30} GiB used")
    for name, state in c.services.items():
        typer.echo(f"service   {name}: {state}")
    if c.swap is not None:
        typer.echo(f"swap      {c.swap.percent}% used")
    if c.procs is not None:
        typer.echo(f"processes {c.procs}")
    for iface in c.net:
        rx, tx = iface.rates.get("rx_bytes"), iface.rates.get("tx_bytes")
        typer.echo(f"net       {iface.iface}: {_per_s(rx)} in, {_per_s(tx)} out")
    for io in c.disk_io:
        read, written = io.rates.get("read_bytes"), io.rates.get("write_bytes")
        typer.echo(
            f"disk io   {io.device}: {_per_s(read)} read, {_per_s(written)} written, {io.busy_percent}% busy"
        )
    for probe_name, n in probe.errors.counts.items():
        typer.echo(f"error     {probe_name} failed ({n}): {probe.errors.last}", err=True)


def _per_s(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f} B/s"


@db_app.command("upgrade")
@takes_sources()
def db_upgrade(sources: Sources) -> None:
    """Apply database migrations up to the newest schema."""
    from checkd.db import DatabaseError, make_engine, migrate

    settings = sources.settings()
    setup_logging(settings.log_level)
    try:
        migrate(make_engine(settings.database_url))
    except DatabaseError as exc:
        fail(str(exc))
    typer.echo("database is at the newest schema")
