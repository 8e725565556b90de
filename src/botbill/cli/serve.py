"""``botbill migrate`` and ``botbill serve``: the schema and the HTTP server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from botbill.cli.common import err
from botbill.kit.db import build_engine
from botbill.migrations import upgrade
from botbill.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def migrate() -> None:
    """Bring the database schema up to date."""
    engine = build_engine(get_settings().database_url)
    upgrade(engine)
    err.print(f"database at head ({engine.dialect.name})")


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
    run_server(host, port, workers=workers)


def run_server(host: str, port: int, *, workers: int = 1) -> None:
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
        "botbill.cli.serve:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


def worker_app() -> FastAPI:
    """The app of one ``serve --workers`` process (uvicorn imports it by name)."""
    from botbill.app import create_app
    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    return create_app(settings)
