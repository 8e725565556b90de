"""What every command shares: the error console, failing with exit code 2, and an engine
on a migrated database."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy import Engine

from botbill.kit.db import build_engine
from botbill.migrations import upgrade
from botbill.settings import get_settings

err = Console(stderr=True)


def migrated_engine() -> Engine:
    engine = build_engine(get_settings().database_url)
    upgrade(engine)
    return engine


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)
