"""``botbill workspace`` and ``botbill key``: bootstrap a workspace and its API keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from botbill.auth.keys import parse_scopes
from botbill.cli.common import err, fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work
from botbill.kit.problems import NotFound

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
    from botbill.api_keys.service import issue
    from botbill.audit.service import Actor
    from botbill.workspaces.service import get_workspace

    try:
        scope_set = parse_scopes(scopes)
    except ValueError as error:
        raise fail(str(error)) from None
    if not name.strip() or "\x00" in name or len(name.strip()) > 200:
        raise fail("a key needs a name of 1 to 200 characters")
    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            issued = issue(
                session,
                get_workspace(session, workspace).id,
                name=name.strip(),
                scopes=scope_set,
                actor=Actor.cli(),
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


@key_app.command("list")
def key_list(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List a workspace's keys, revoked ones too; never a secret."""
    from botbill.api_keys.schemas import key_out
    from botbill.api_keys.service import list_keys
    from botbill.workspaces.service import get_workspace

    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=False) as session:
            keys = list_keys(session, get_workspace(session, workspace).id, limit=1_000_000)
    except NotFound as error:
        raise fail(error.detail) from None
    for key in keys:
        shown = key_out(key)
        if as_json:
            print(shown.model_dump_json())
            continue
        state = "revoked" if shown.revoked_at else "live"
        used = shown.last_used_at.isoformat() if shown.last_used_at else "never used"
        scopes = ",".join(shown.scopes)
        print(f"{shown.id}\t{state}\t{scopes}\t{used}\t{shown.name}")


@key_app.command("revoke")
def key_revoke(
    key_id: str,
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
) -> None:
    """Revoke an API key: refused by every server within seconds."""
    from botbill.api_keys.service import revoke
    from botbill.audit.service import Actor
    from botbill.kit.problems import Conflict

    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            revoke(session, workspace, key_id, actor=Actor.cli(), now=SystemClock().now())
    except (NotFound, Conflict) as error:
        raise fail(error.detail) from None
    err.print(f"API key [bold]{key_id}[/bold] revoked")
