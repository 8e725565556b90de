"""The ``botbill`` command: one module per command group, each command thin — parse,
open a unit of work, call a service."""

from __future__ import annotations

import typer

from botbill.cli import api_clients, demo, events, operators, people, plans, serve, workspaces

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="botbill: usage metering and billing."
)
app.command()(serve.migrate)
app.add_typer(workspaces.workspace_app, name="workspace")
app.add_typer(workspaces.key_app, name="key")
app.add_typer(events.rollups_app, name="rollups")
app.add_typer(operators.operator_app, name="operator")
app.add_typer(plans.plan_app, name="plan")
app.add_typer(people.user_app, name="user")
app.add_typer(api_clients.api_client_app, name="api-client")
app.command()(serve.serve)
app.command()(serve.worker)
app.command()(demo.demo)
app.command("import")(events.import_events)

__all__ = ["app"]
