"""``botbill api-client``: clients of the platform-compatible billing API (SPEC §9)."""

from __future__ import annotations

import typer

api_client_app = typer.Typer(
    no_args_is_help=True, help="API clients of the platform-compatible billing API."
)
