"""``botbill api-client``: clients of the platform-compatible billing API (SPEC §9)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from botbill.cli.common import err, fail, migrated_engine
from botbill.kit.clock import SystemClock
from botbill.kit.db import unit_of_work

api_client_app = typer.Typer(
    no_args_is_help=True, help="API clients of the platform-compatible billing API."
)


@api_client_app.command("create")
def api_client_create(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    name: Annotated[str, typer.Option(help="A label for the client.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a client with the billing_sessions:read scope; its secret is printed once
    (it signs the HS256 JWTs sent in the 'auth' header)."""
    from botbill.audit.service import Actor
    from botbill.compat.clients import ClientScope, create_client
    from botbill.kit.problems import NotFound
    from botbill.settings import get_settings
    from botbill.workspaces.service import get_workspace

    if not name.strip():
        raise fail("a client needs a name")
    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            issued = create_client(
                session,
                workspace_id=get_workspace(session, workspace).id,
                name=name.strip(),
                scopes=[ClientScope.BILLING_SESSIONS_READ],
                secret_key=get_settings().secret_key,
                actor=Actor.cli(),
                now=SystemClock().now(),
            )
    except NotFound as error:
        raise fail(error.detail) from None
    if as_json:
        print(json.dumps({"client_id": issued.client.id, "client_secret": issued.secret}))
    else:
        err.print(f"API client [bold]{issued.client.id}[/bold] created; its secret:")
        print(issued.secret)


@api_client_app.command("list")
def api_client_list(workspace: Annotated[str, typer.Option(help="Workspace id.")]) -> None:
    """The workspace's clients (never their secrets)."""
    from botbill.compat.clients import list_clients

    engine = migrated_engine()
    with unit_of_work(engine, write=False) as session:
        for client in list_clients(session, workspace_id=workspace):
            state = "revoked" if client.revoked_at else "active"
            print(f"{client.id}\t{client.name}\t{client.scopes}\t{state}")


@api_client_app.command("revoke")
def api_client_revoke(
    client_id: str, workspace: Annotated[str, typer.Option(help="Workspace id.")]
) -> None:
    """Revoke a client: its tokens are refused from the next request on."""
    from botbill.audit.service import Actor
    from botbill.compat.clients import revoke_client
    from botbill.kit.problems import NotFound

    engine = migrated_engine()
    try:
        with unit_of_work(engine, write=True) as session:
            revoke_client(
                session,
                workspace_id=workspace,
                client_id=client_id,
                actor=Actor.cli(),
                now=SystemClock().now(),
            )
    except NotFound as error:
        raise fail(error.detail) from None
    err.print(f"API client [bold]{client_id}[/bold] revoked")
