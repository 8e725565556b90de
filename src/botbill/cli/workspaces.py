"""``botbill workspace`` and ``botbill key``: bootstrap a workspace and its API keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from botbill.auth.keys import parse_scopes
from botbill.cli.common import err, fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work

workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces.")
key_app = typer.Typer(no_args_is_help=True, help="API keys.")


@workspace_app.command("create")
def workspace_create(
    name: str,
    timezone: Annotated[str, typer.Option(help="IANA timezone for buckets and periods.")] = "UTC",
    currency: Annotated[str, typer.Option(help="ISO 4217 currency of balances.")] = "USD",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a workspace and print its id and an admin API key (shown once)."""
    from botbill.workspaces.service import create_workspace

    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            workspace, issued = create_workspace(
                session, name=name, timezone=timezone, currency=currency, now=SystemClock().now()
            )
    except ValueError as error:
        raise fail(str(error)) from None
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
    from botbill.auth.service import create_key
    from botbill.kit.problems import NotFound
    from botbill.workspaces.service import get_workspace

    try:
        scope_set = parse_scopes(scopes)
    except ValueError as error:
        raise fail(str(error)) from None
    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            issued = create_key(
                session,
                workspace_id=get_workspace(session, workspace).id,
                name=name,
                scopes=scope_set,
                now=SystemClock().now(),
            )
    except NotFound as error:
        raise fail(error.detail) from None
    if as_json:
        print(
            json.dumps(
                {"key_id": issued.key.id, "api_key": issued.secret, "scopes": sorted(scope_set)}
            )
        )
    else:
        print(issued.secret)
