"""Fixtures: a migrated database per backend (SQLite and PostgreSQL), a real HTTP server.

Every test that asks for ``db`` runs once on each backend. PostgreSQL is the server on
127.0.0.1:5432 (user postgres); the suite creates its own database there and drops it at
the end. Without a reachable server the PostgreSQL runs skip, except under CI=true,
where they fail.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from sqlalchemy import Engine, text

from botbill.app import create_app
from botbill.kit.clock import FrozenClock
from botbill.kit.db import build_engine
from botbill.kit.instants import to_micros
from botbill.migrations import upgrade
from botbill.models import metadata
from botbill.settings import Settings
from tests.factories import T0

PG_ADMIN_URL = os.environ.get("BOTBILL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgresql":
        problem = _postgres_reachable()
        if problem is not None:
            message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}"
            if os.environ.get("CI") == "true":
                pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
            pytest.skip(message)
    return name


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "botbill.db"
        yield f"sqlite:///{path}"
        return
    name = f"botbill_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _clean(engine: Engine) -> None:
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The migrated database of this backend, emptied for the test."""
    _clean(engine)
    return engine


@dataclass
class Server:
    url: str
    clock: FrozenClock
    engine: Engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def _server(database_url: str, engine: Engine) -> Iterator[Server]:
    clock = FrozenClock(to_micros(T0))
    settings = Settings(
        environment="test", database_url=database_url, migrate_on_start=False, jobs_enabled=False
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, clock=clock), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield Server(url=f"http://127.0.0.1:{port}", clock=clock, engine=engine)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def server(_server: Server, db: Engine) -> Server:
    """A real HTTP server on this backend, over an emptied database, clock at ``T0``."""
    _server.clock.set(to_micros(T0))
    return _server


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
