"""``botbill user``: people who sign in to the console."""

from __future__ import annotations

import typer

user_app = typer.Typer(no_args_is_help=True, help="People who sign in to the console.")
