"""The ``botbill`` command: thin — parse, open a unit of work, call a service."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

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

if TYPE_CHECKING:
    from botbill.plans.catalog import Plan

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
operator_credit_app = typer.Typer(no_args_is_help=True, help="Promotional credits.")
operator_app.add_typer(operator_credit_app, name="credit")
operator_workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces' account types.")
operator_app.add_typer(operator_workspace_app, name="workspace")
app.add_typer(operator_app, name="operator")
plan_app = typer.Typer(no_args_is_help=True, help="The plan catalog (operators).")
plan_catalog_app = typer.Typer(no_args_is_help=True, help="List and edit plans.")
plan_app.add_typer(plan_catalog_app, name="catalog")
app.add_typer(plan_app, name="plan")

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


@operator_credit_app.command("grant")
def operator_credit_grant(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    app_id: Annotated[str, typer.Option("--app", help="App id.")],
    amount: Annotated[int, typer.Option(min=1, help="Minor units of the workspace currency.")],
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it lapses.")] = 30,
    reason: Annotated[str, typer.Option(help="Shown in the ledger.")] = "promotion",
) -> None:
    """Grant an app promotional credit (spent first; the unspent rest lapses at expiry)."""
    from botbill.audit.service import Action, Actor, record, target
    from botbill.kit.instants import DAY, from_micros
    from botbill.kit.problems import Problem
    from botbill.orders.providers import card_provider
    from botbill.wallet.service import grant_promotion
    from botbill.workspaces.service import get_workspace

    settings = get_settings()
    engine = _engine()
    now = SystemClock().now()
    try:
        with unit_of_work(engine, write=True) as session:
            entry = grant_promotion(
                session,
                get_workspace(session, workspace),
                app_id,
                amount=amount,
                expires_at=now + days * DAY,
                reason=reason,
                cards=card_provider(settings.effective_card_provider),
                now=now,
            )
            record(
                session,
                workspace_id=workspace,
                actor=Actor.cli(),
                action=Action.CREDIT_GRANTED,
                target=target("app", app_id),
                before=None,
                after={
                    "entry_id": entry.id,
                    "amount": amount,
                    "expires_at": from_micros(now + days * DAY),
                    "reason": reason,
                },
                now=now,
            )
    except Problem as error:
        raise _fail(error.detail) from None
    except ValueError as error:
        raise _fail(str(error)) from None
    from botbill.kit.instants import from_micros

    assert entry.expires_at is not None
    expires = from_micros(entry.expires_at).isoformat().replace("+00:00", "Z")
    print(json.dumps({"entry_id": entry.id, "amount": amount, "expires_at": expires}))


@operator_workspace_app.command("account-type")
def operator_workspace_account_type(
    workspace: Annotated[str, typer.Argument(help="Workspace id.")],
    account_type: Annotated[str, typer.Argument(help="self-serve or enterprise.")],
) -> None:
    """Move a workspace to or from enterprise; every app moves to its plan at once."""
    from botbill.audit.service import Actor
    from botbill.kit.problems import Problem
    from botbill.orders.providers import card_provider
    from botbill.plans.accounts import set_account_type

    settings = get_settings()
    try:
        with unit_of_work(_engine(), write=True) as session:
            move = set_account_type(
                session,
                workspace,
                account_type,
                actor=Actor.cli(),
                cards=card_provider(settings.effective_card_provider),
                now=SystemClock().now(),
            )
    except Problem as error:
        raise _fail(error.detail) from None
    print(
        json.dumps(
            {
                "workspace_id": move.workspace_id,
                "account_type": move.after,
                "apps_moved": move.moved,
                "apps_kept": move.kept,
            }
        )
    )


def _plan_json(plan: Plan) -> dict[str, Any]:
    from dataclasses import asdict

    values = asdict(plan)
    values["period"] = plan.period.value
    return values


@plan_catalog_app.command("list")
def plan_catalog_list() -> None:
    """Print the catalog as JSON lines (amounts in minor units)."""
    from botbill.plans.catalog_store import catalog

    engine = _engine()
    with unit_of_work(engine, write=False) as session:
        plans = list(catalog(session).values())
    for plan in plans:
        print(json.dumps(_plan_json(plan)))


@plan_catalog_app.command("set")
def plan_catalog_set(
    code: Annotated[str, typer.Argument(help="Plan code, e.g. essential or a new one.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    fee: Annotated[int | None, typer.Option(min=0, help="Fee per period.")] = None,
    included_billing: Annotated[int | None, typer.Option(min=0)] = None,
    included_voice: Annotated[int | None, typer.Option(min=0)] = None,
    usage_price: Annotated[int | None, typer.Option(min=0)] = None,
    alert_price: Annotated[int | None, typer.Option(min=0)] = None,
    voice_price: Annotated[int | None, typer.Option(min=0)] = None,
    seat_day_price: Annotated[int | None, typer.Option(min=0)] = None,
) -> None:
    """Add a monthly plan or change a plan's fields; the rest stays as it is."""
    import dataclasses
    import re

    from botbill.audit.service import Action, Actor, record, target
    from botbill.kit.problems import Problem
    from botbill.plans.catalog import Period, Plan
    from botbill.plans.catalog_store import catalog, put_plan

    if not re.fullmatch(r"[a-z0-9_-]{1,32}", code):
        raise _fail("a plan code is 1-32 of a-z, 0-9, _ and -")
    changes = {
        "name": name,
        "fee": fee,
        "included_billing_sessions": included_billing,
        "included_voice_sessions": included_voice,
        "usage_price": usage_price,
        "alert_price": alert_price,
        "voice_price": voice_price,
        "seat_day_price": seat_day_price,
    }
    given: dict[str, Any] = {key: value for key, value in changes.items() if value is not None}
    engine = _engine()
    try:
        with unit_of_work(engine, write=True) as session:
            current = catalog(session).get(code)
            if current is None:
                base = Plan(
                    code=code,
                    name=code.title(),
                    fee=0,
                    period=Period.MONTH,
                    included_billing_sessions=0,
                    included_voice_sessions=0,
                    usage_price=None,
                    alert_price=None,
                    voice_price=None,
                    seat_day_price=None,
                )
            else:
                base = current
            now = SystemClock().now()
            plan = put_plan(session, dataclasses.replace(base, **given), now=now)
            record(
                session,
                workspace_id=None,
                actor=Actor.cli(),
                action=Action.CATALOG_PLAN_SET,
                target=target("plan", code),
                before=None if current is None else _plan_json(current),
                after=_plan_json(plan),
                now=now,
            )
    except Problem as error:
        raise _fail(error.detail) from None
    except ValueError as error:
        raise _fail(str(error)) from None
    print(json.dumps(_plan_json(plan)))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes (uvicorn workers): parsing and validation run on that "
            "many cores. Each runs the background jobs; they share the work safely.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP server (migrates the database first)."""
    _serve(host, port, workers=workers)


def _serve(host: str, port: int, *, workers: int = 1) -> None:
    import os

    import uvicorn

    from botbill.app import create_app
    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
        return
    # Workers are fresh processes that build the app from the environment: migrate once
    # here, not in each of them at the same time.
    if settings.migrate_on_start:
        upgrade(build_engine(settings.database_url))
    os.environ["BOTBILL_MIGRATE_ON_START"] = "false"
    uvicorn.run(
        "botbill.cli:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


def worker_app() -> Any:
    """The app of one ``serve --workers`` process (uvicorn imports it by name)."""
    from botbill.app import create_app
    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    return create_app(settings)


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
