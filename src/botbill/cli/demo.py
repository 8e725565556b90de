"""``botbill demo``: build (or reuse) a demo workspace, print how to query it, serve it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from botbill.cli.common import err, fail, migrated_engine
from botbill.cli.serve import run_server
from botbill.kit.clock import SystemClock
from botbill.settings import get_settings

if TYPE_CHECKING:
    from botbill.demo.people import DemoSignIn


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
    from botbill.demo.people import demo_sign_ins

    settings = get_settings()
    if fresh:
        _remove_default_sqlite(settings.database_url)
    engine = migrated_engine()
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
    sign_ins = demo_sign_ins(engine, clock, workspace_id)
    engine.dispose()
    _print_demo(host, port, workspace_id, api_key, now=clock.now())
    _print_console(host, port, sign_ins)
    run_server(host, port)


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
            raise fail(f"{path} is not a SQLite database; not deleting it")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    err.print(f"deleted {path}")


def _print_console(host: str, port: int, sign_ins: list[DemoSignIn]) -> None:
    from botbill.demo.people import DEMO_PASSWORD

    labels = {
        "owner": "Owner",
        "admin": "Admin",
        "shared": "Shared account user",
        "operator": "Platform operator",
    }
    out = Console(soft_wrap=True, highlight=False)
    out.print(f"[bold]Console[/bold]: http://{host}:{port}/console")
    for sign_in in sign_ins:
        out.print(f"  {labels[sign_in.role] + ':':<21} {sign_in.email}")
    out.print(f"  Password:             {DEMO_PASSWORD}")
    out.print("  (a demo-only password, the same for everyone above: never use it elsewhere)")
    out.print()
    sys.stdout.flush()


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
