"""Helpers of the console tests: people with passwords, an HTTP client signed in to the
console, signing in with a browser. The fixtures in ``conftest.py`` build on them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, update

from botbill.kit.db import unit_of_work
from botbill.kit.instants import to_micros
from botbill.people import passwords
from botbill.people.models import Operator
from botbill.people.service import create_operator
from botbill.workspaces.models import Member
from tests.factories import T0, add_member

PASSWORD = "correct horse battery staple"
"""Every test person's password."""

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
"""Browser tests run on SQLite; one PostgreSQL smoke test covers the other database."""


@cache
def password_hash(password: str = PASSWORD) -> str:
    """Argon2 is slow by design: hash the tests' password once per process."""
    return passwords.hash_password(password)


def give_password(engine: Engine, email: str, password: str = PASSWORD) -> None:
    """Set the email's password on all its rows (as ``set_password`` does, minus audit)."""
    with unit_of_work(engine, write=True) as session:
        session.execute(
            update(Member)
            .where(Member.email == email)
            .values(password_hash=password_hash(password))
        )
        session.execute(
            update(Operator)
            .where(Operator.email == email)
            .values(password_hash=password_hash(password))
        )


def make_person(
    engine: Engine,
    *,
    workspace_id: str,
    email: str,
    role: str,
    name: str | None = None,
    password: str | None = PASSWORD,
) -> str:
    """A member of the workspace, with a password unless ``password`` is None."""
    add_member(
        engine,
        workspace_id=workspace_id,
        email=email,
        role=role,
        name=name or email.split("@", 1)[0].title(),
    )
    if password is not None:
        give_password(engine, email, password)
    return email


def make_operator(
    engine: Engine, *, email: str = "ops@platform.example", name: str = "Olive Ops"
) -> str:
    """A platform operator who signs in with :data:`PASSWORD`."""
    from botbill.audit.service import Actor

    with unit_of_work(engine, write=True) as session:
        create_operator(
            session, email, name=name, password=PASSWORD, actor=Actor.cli(), now=to_micros(T0)
        )
    return email


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


@dataclass
class ConsoleClient:
    """An httpx client with the console's cookies; ``post`` sends the CSRF token."""

    http: httpx.Client
    csrf_token: str = ""
    responses: list[httpx.Response] = field(default_factory=list)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        fields = dict(data or {})
        if csrf:
            fields.setdefault("csrf_token", self.csrf_token)
        return self.http.post(path, data=fields)

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        """Sign in through the form; on success the client holds the session cookie and
        its CSRF token."""
        form = self.http.get("/console/sign-in")
        response = self.http.post(
            "/console/sign-in",
            data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
        )
        if response.status_code == 303:
            landing = self.http.get("/console/workspaces")
            if landing.status_code == 200:
                self.csrf_token = csrf_of(landing.text)
        return response


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in with the browser, by the form's labels, and wait to leave the form."""
    page.goto("/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/console/sign-in"))
