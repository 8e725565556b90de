"""The ``botbill`` command: thin — parse, open a unit of work, call a service."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import Engine

from botbill.kit.clock import SystemClock
from botbill.kit.db import build_engine, unit_of_work
from botbill.kit.instants import SECOND
from botbill.migrations import upgrade
from botbill.settings import get_settings
from botbill.workspaces.keys import parse_scopes

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="botbill: usage metering and billing."
)
workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces.")
key_app = typer.Typer(no_args_is_help=True, help="API keys.")
rollups_app = typer.Typer(no_args_is_help=True, help="Usage rollups.")
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="key")
app.add_typer(rollups_app, name="rollups")
operator_app = typer.Typer(no_args_is_help=True, help="Platform operators.")
operator_key_app = typer.Typer(no_args_is_help=True, help="Operator API keys.")
operator_app.add_typer(operator_key_app, name="key")
app.add_typer(operator_app, name="operator")

err = Console(stderr=True)


def _engine() -> Engine:
    engine = build_engine(get_settings().database_url)
    upgrade(engine)
    return engine


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    engine = build_engine(get_settings().database_url)
    upgrade(engine)
    err.print(f"database at head ({engine.dialect.name})")


@workspace_app.command("create")
def workspace_create(
    name: str,
    timezone: Annotated[str, typer.Option(help="IANA timezone for buckets and periods.")] = "UTC",
    currency: Annotated[str, typer.Option(help="ISO 4217 currency of balances.")] = "USD",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a workspace and print its id and an admin API key (shown once)."""
    from botbill.workspaces.service import create_workspace

    engine = _engine()
    try:
        with unit_of_work(engine, write=True) as session:
            workspace, issued = create_workspace(
                session, name=name, timezone=timezone, currency=currency, now=SystemClock().now()
            )
    except ValueError as error:
        raise _fail(str(error)) from None
    if as_json:
        print(json.dumps({"workspace_id": workspace.id, "api_key": issued.secret}))
    else:
        err.print(f"workspace [bold]{workspace.id}[/bold] created")
        print(issued.secret)


@key_app.command("create")
def key_create(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: ingest, read, admin.")] = "read",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "cli",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key; its secret is printed once and stored only as a digest."""
    from botbill.kit.problems import NotFound
    from botbill.workspaces.service import create_key, get_workspace

    try:
        scope_set = parse_scopes(scopes)
    except ValueError as error:
        raise _fail(str(error)) from None
    engine = _engine()
    try:
        with unit_of_work(engine, write=True) as session:
            issued = create_key(
                session,
                workspace=get_workspace(session, workspace),
                name=name,
                scopes=scope_set,
                now=SystemClock().now(),
            )
    except NotFound as error:
        raise _fail(error.detail) from None
    if as_json:
        print(
            json.dumps(
                {"key_id": issued.key.id, "api_key": issued.secret, "scopes": sorted(scope_set)}
            )
        )
    else:
        print(issued.secret)


@operator_key_app.command("create")
def operator_key_create(
    name: Annotated[str, typer.Option(help="Who or what holds the key.")] = "operator",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a platform-operator key (any workspace's operator actions; shown once)."""
    from botbill.operators.service import create_operator_key

    engine = _engine()
    try:
        with unit_of_work(engine, write=True) as session:
            key, secret = create_operator_key(session, name=name, now=SystemClock().now())
    except ValueError as error:
        raise _fail(str(error)) from None
    if as_json:
        print(json.dumps({"key_id": key.id, "api_key": secret, "scopes": ["operator"]}))
    else:
        print(secret)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP server (migrates the database first)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    import uvicorn

    from botbill.app import create_app
    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of traffic.")] = 60,
    scale: Annotated[float, typer.Option(min=0.01, max=50, help="Traffic multiplier.")] = 1.0,
    fresh: Annotated[
        bool, typer.Option("--fresh/--keep", help="Build a new demo or reuse the existing one.")
    ] = False,
) -> None:
    """Build (or reuse) a demo workspace with weeks of traffic, print a key, and serve it."""
    from botbill.demo.build import build_demo, find_demo, new_admin_key

    settings = get_settings()
    if fresh:
        _remove_default_sqlite(settings.database_url)
    engine = _engine()
    clock = SystemClock()
    workspace_id = None if fresh else find_demo(engine)
    if workspace_id is not None:
        api_key = new_admin_key(engine, clock, workspace_id)
        err.print(f"reusing demo workspace {workspace_id} (--fresh builds a new one)")
    else:
        progress = Progress(
            TextColumn("building demo"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
        )
        started = time.monotonic()
        with progress:
            task = progress.add_task("demo", total=None)
            built = build_demo(
                engine,
                clock,
                days=days,
                scale=scale,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        workspace_id, api_key = built.workspace_id, built.api_key
        err.print(f"{built.events:,} events in {time.monotonic() - started:.1f} s")
    engine.dispose()
    _print_demo(host, port, workspace_id, api_key, now=clock.now())
    _serve(host, port)


def _remove_default_sqlite(url: str) -> None:
    """``--fresh`` on the default database: delete the SQLite file, and only such a file."""
    from sqlalchemy.engine import make_url

    from botbill.settings import Settings

    if url != Settings.model_fields["database_url"].default:
        return  # another database: a new demo workspace is built beside the old one
    database = make_url(url).database
    path = Path(database) if database else None
    if path is None or not path.is_file():
        return
    with path.open("rb") as file:
        if file.read(16) not in (b"", b"SQLite format 3\x00"):  # SQLite may leave 0 bytes
            raise _fail(f"{path} is not a SQLite database; not deleting it")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    err.print(f"deleted {path}")


def _print_demo(host: str, port: int, workspace_id: str, api_key: str, *, now: int) -> None:
    from botbill.demo.traffic import rfc3339
    from botbill.kit.instants import DAY

    base = f"http://{host}:{port}"
    auth = f'-H "Authorization: Bearer {api_key}"'
    since, until = rfc3339(now - DAY)[:19] + "Z", rfc3339(now + DAY)[:19] + "Z"
    out = Console(soft_wrap=True, highlight=False)
    out.print()
    out.print(f"[bold]botbill demo[/bold] on {base}")
    out.print(f"  API docs:   {base}/docs")
    out.print(f"  Workspace:  {workspace_id}")
    out.print(f"  API key:    {api_key}  (admin; shown once)")
    out.print()
    out.print("Try:")
    out.print(f'  curl {auth} "{base}/v1/usage?range=30d"')
    out.print(f'  curl {auth} "{base}/v1/billing-sessions?from={since}&to={until}&limit=5"')
    out.print()
    sys.stdout.flush()


@app.command("import")
def import_events(
    file: Annotated[str, typer.Argument(help="JSON lines file of CloudEvents, or - for stdin.")],
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Backfill events from JSON lines (no backfill window; future times still refused)."""
    from botbill.events.importer import import_lines
    from botbill.events.service import TimeLimits
    from botbill.kit.problems import NotFound

    settings = get_settings()
    limits = TimeLimits(max_future=settings.max_future_seconds * SECOND, max_age=None)
    engine = _engine()
    stream: BinaryIO
    if file == "-":
        stream, total = sys.stdin.buffer, None
    else:
        path = Path(file)
        if not path.is_file():
            raise _fail(f"no file {file!r}")
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
            raise _fail(error.detail) from None
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
    from sqlalchemy import select

    from botbill.events.service import rebuild
    from botbill.workspaces.models import Workspace

    engine = _engine()
    with unit_of_work(engine, write=False) as session:
        ids = (
            [workspace]
            if workspace
            else list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
        )
    with Progress(console=err) as progress:
        task = progress.add_task("rebuilding", total=len(ids))
        for workspace_id in ids:
            with unit_of_work(engine, write=True) as session:
                events = rebuild(session, workspace_id=workspace_id, now=SystemClock().now())
            progress.advance(task)
            err.print(f"{workspace_id}: {events} events replayed")
