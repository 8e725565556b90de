"""Fixtures of the console tests: a workspace with one person per role, an operator,
HTTP clients signed in, and Chromium (Debian's, headless, started once per process).

Browser tests take ``page`` (a fresh context on the live server) and ``people``; HTTP
tests take ``console_client`` and sign in with ``client.sign_in(email)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import Server
from tests.console.kit import ConsoleClient, make_operator, make_person
from tests.factories import make_workspace

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class People:
    """A workspace ("Acme") with a member per role, all with the tests' password."""

    server: Server
    workspace_id: str
    key: str
    owner: str
    admin: str
    developer: str
    shared: str
    operator: str

    def url(self, section: str) -> str:
        return f"/console/w/{self.workspace_id}/{section}"


@pytest.fixture
def people(server: Server) -> People:
    workspace_id, key = make_workspace(server.engine, name="Acme")
    emails = {}
    for role in ("owner", "admin", "developer", "shared"):
        emails[role] = make_person(
            server.engine, workspace_id=workspace_id, email=f"{role}@acme.example", role=role
        )
    return People(
        server=server,
        workspace_id=workspace_id,
        key=key,
        operator=make_operator(server.engine),
        **emails,
    )


@pytest.fixture
def console_client(server: Server) -> Iterator[Callable[[], ConsoleClient]]:
    """Makes HTTP clients (no redirects followed) with cookies of their own."""
    clients: list[httpx.Client] = []

    def new() -> ConsoleClient:
        client = httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)
        clients.append(client)
        return ConsoleClient(client)

    yield new
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: browser tests must run)")
        pytest.skip(message)
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server, 1280 by 800."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
