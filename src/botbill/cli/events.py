"""``botbill import`` and ``botbill rollups rebuild``: events from files, figures from
events."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from botbill.cli.common import err, fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work
from botbill.kit.instants import SECOND
from botbill.settings import get_settings

rollups_app = typer.Typer(no_args_is_help=True, help="Usage rollups.")


def import_events(
    file: Annotated[str, typer.Argument(help="JSON lines file of CloudEvents, or - for stdin.")],
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Backfill events from JSON lines (no backfill window; future times still refused)."""
    from botbill.events.service import TimeLimits
    from botbill.ingest.importer import import_lines
    from botbill.kit.problems import NotFound

    settings = get_settings()
    limits = TimeLimits(max_future=settings.max_future_seconds * SECOND, max_age=None)
    engine = migrated_engine()
    stream: BinaryIO
    if file == "-":
        stream, total = sys.stdin.buffer, None
    else:
        path = Path(file)
        if not path.is_file():
            raise fail(f"no file {file!r}")
        stream, total = path.open("rb"), path.stat().st_size
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )
    with stream, progress:
        task = progress.add_task("import", total=total)
        try:
            summary = import_lines(
                engine,
                SystemClock(),
                workspace_id=workspace,
                lines=stream,
                limits=limits,
                on_batch=lambda size: progress.advance(task, size),
            )
        except NotFound as error:
            raise fail(error.detail) from None
    print(
        json.dumps(
            {
                "accepted": summary.accepted,
                "duplicates": summary.duplicates,
                "rejected": len(summary.rejected),
                "rejected_lines": [
                    {"line": r.line, "reason": r.reason} for r in summary.rejected[:1000]
                ],
            }
        )
    )
    for rejection in summary.rejected[:20]:
        err.print(f"[yellow]line {rejection.line}[/yellow]: {rejection.reason}")
    if summary.rejected:
        raise typer.Exit(code=1)


@rollups_app.command("rebuild")
def rollups_rebuild(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace.")] = None,
) -> None:
    """Recompute billing sessions, seats and rollups from the raw events."""
    from botbill.engine.rebuild import rebuild
    from botbill.workspaces.service import workspace_ids

    engine = migrated_engine()
    with unit_of_work(engine, write=False) as session:
        ids = [workspace] if workspace else workspace_ids(session)
    with Progress(console=err) as progress:
        task = progress.add_task("rebuilding", total=len(ids))
        for workspace_id in ids:
            with unit_of_work(engine, write=True) as session:
                events = rebuild(session, workspace_id=workspace_id, now=SystemClock().now())
            progress.advance(task)
            err.print(f"{workspace_id}: {events} events replayed")
