"""`checkd import-legacy`: bring the exam system's SQLite history into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from checkd.cli.common import Sources, fail, takes_sources

_ROWS_LISTED = 20  # skipped rows listed one by one; the rest are only counted by reason


def _parse_time(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--ended-at") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


@takes_sources()
def import_legacy_cmd(
    file: Annotated[Path, typer.Argument(help="the exam system's SQLite database", show_default=False)],
    interval: Annotated[int, typer.Option(min=1, max=86400, help="seconds between its checks")] = 60,
    ended_at: Annotated[
        str | None, typer.Option(help="time of the last row, ISO 8601 [default: the file's mtime]")
    ] = None,
    host: Annotated[str, typer.Option(help="host name to record the checks under")] = "legacy",
    *,
    sources: Sources,
) -> None:
    """Import FILE's `check` rows (prose strings) as numeric checks; a second run adds nothing."""
    from checkd.db import DatabaseError, make_engine, migrate
    from checkd.legacy import LegacyFileError, import_legacy, read_legacy_rows

    settings = sources.settings()
    end = _parse_time(ended_at) if ended_at is not None else None
    try:
        total = len(read_legacy_rows(file))  # validates the file before anything is written
        end = end if end is not None else file.stat().st_mtime
        engine = make_engine(settings.database_url)
        migrate(engine)
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"importing {file.name}", total=total)
            report = import_legacy(
                engine=engine,
                path=file,
                host=host,
                interval_s=interval,
                ended_at=end,
                progress=lambda n: bar.advance(task, n),
            )
    except (LegacyFileError, DatabaseError) as exc:
        fail(str(exc))
    skipped = report.malformed or []
    for row_id, what in skipped[:_ROWS_LISTED]:
        typer.echo(f"skipped row {row_id}: {what}", err=True)
    if len(skipped) > _ROWS_LISTED:
        typer.echo(f"... and {len(skipped) - _ROWS_LISTED} more skipped rows", err=True)
    for reason, n in report.skipped_by_reason().items():
        typer.echo(f"skipped {n} row{'' if n == 1 else 's'}: {reason}", err=True)
    typer.echo(
        f"{report.imported} checks imported under host {host!r}; {report.already} already imported; "
        f"{len(report.malformed or [])} malformed rows skipped (of {report.rows})"
    )
