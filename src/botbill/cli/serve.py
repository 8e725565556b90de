"""``botbill migrate``, ``botbill serve`` and ``botbill worker``: the schema, the HTTP
server and the background worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from botbill.cli.common import err
from botbill.kit.db import build_engine
from botbill.migrations import upgrade
from botbill.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

WORKER_HEALTHCHECK_SECONDS = 60
"""uvicorn replaces a server process that does not answer its ping within this many
seconds, one still booting included. At uvicorn's default (5), a machine too busy to boot
a process that fast (a restart after a crash, under load) had them replaced over and over
and never served."""


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
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker/--without-worker",
            help="Start the background worker (metering, rating, renewals) as a process "
            "beside the server; without it, run `botbill worker` yourself.",
        ),
    ] = True,
) -> None:
    """Run the HTTP server (migrates the database first) and its background worker."""
    run_server(host, port, workers=workers, with_worker=with_worker)


def worker(
    parent: Annotated[
        int | None,
        typer.Option(hidden=True, help="Stop when this process (the server) is gone."),
    ] = None,
) -> None:
    """Run the background worker: meter, complete, rate, renew (until interrupted).

    Several workers share the work safely; ``botbill serve`` starts one by default."""
    import signal

    from botbill.engine.worker import Worker
    from botbill.kit.clock import SystemClock
    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    engine = build_engine(settings.database_url)
    if settings.migrate_on_start:
        upgrade(engine)
    running = Worker(engine, SystemClock(), settings, parent=parent)
    signal.signal(signal.SIGTERM, lambda *_: running.stop())
    try:
        running.run()
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


def run_server(host: str, port: int, *, workers: int = 1, with_worker: bool = True) -> None:
    import os
    import subprocess
    import sys

    import uvicorn

    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    with_worker = with_worker and settings.jobs_enabled  # jobs off: no background work
    # The server processes and the worker are fresh processes that read the environment:
    # migrate once here, not in each of them at the same time. The server processes run
    # no background work: the worker process does.
    if settings.migrate_on_start:
        upgrade(build_engine(settings.database_url))
    os.environ["BOTBILL_MIGRATE_ON_START"] = "false"
    os.environ["BOTBILL_JOBS_ENABLED"] = "false"
    get_settings.cache_clear()  # a single server process builds its app here, from these
    background = None
    if with_worker:
        background = subprocess.Popen(
            [sys.executable, "-m", "botbill.cli", "worker", "--parent", str(os.getpid())]
        )
    try:
        uvicorn.run(
            "botbill.cli.serve:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    finally:
        if background is not None:
            background.terminate()
            try:
                background.wait(timeout=30)
            except subprocess.TimeoutExpired:
                background.kill()


def worker_app() -> FastAPI:
    """The app of one ``serve`` process (uvicorn imports it by name)."""
    from botbill.app import create_app
    from botbill.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    return create_app(settings)
