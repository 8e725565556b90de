"""The invitation link of ``POST /v1/members``: a password set once, within 7 days."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select

from botbill.audit.models import AuditEntry
from botbill.kit.db import unit_of_work
from botbill.people.rules import SECOND
from tests.console.conftest import People
from tests.console.kit import PASSWORD, ConsoleClient, csrf_of
from tests.factories import make_member, make_workspace

Clients = Callable[[], ConsoleClient]
NEW_PASSWORD = "a password of my own"


def invite(people: People, email: str = "ann@acme.example", role: str = "admin") -> str:
    with httpx.Client(base_url=people.server.url) as http:
        created = make_member(http, key=people.key, email=email, role=role)
    url: str = created["invitation_url"]
    assert url.startswith(f"{people.server.url}/console/invitation/")
    return url.removeprefix(people.server.url)


def accept(
    client: ConsoleClient, path: str, password: str, confirm: str | None = None
) -> httpx.Response:
    form = client.get(path)
    assert form.status_code == 200, form.text
    return client.http.post(
        path,
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": csrf_of(form.text),
        },
    )


def test_an_invited_member_sets_a_password_once_and_signs_in(
    people: People, console_client: Clients
) -> None:
    path = invite(people)
    client = console_client()
    page = client.get(path)
    assert "Set your password" in page.text
    assert "ann@acme.example" in page.text
    response = accept(client, path, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"
    assert console_client().sign_in("ann@acme.example", NEW_PASSWORD).status_code == 303

    again = console_client().get(path)
    assert again.status_code == 410
    assert "has been used or is not valid" in again.text
    assert 'name="password"' not in again.text
    second = console_client()
    second.get("/console/sign-in")
    refused = second.http.post(
        path,
        data={
            "password": "someone else's password",
            "confirm": "someone else's password",
            "csrf_token": csrf_of(second.get("/console/sign-in").text),
        },
    )
    assert refused.status_code == 410
    assert console_client().sign_in("ann@acme.example", NEW_PASSWORD).status_code == 303


def test_setting_the_password_is_audited_naming_the_person(
    people: People, console_client: Clients
) -> None:
    path = invite(people)
    accept(console_client(), path, NEW_PASSWORD)
    with unit_of_work(people.server.engine, write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "person.password_set")
        ).one()
    assert entry.workspace_id == people.workspace_id
    assert entry.actor_kind == "person"
    assert entry.actor_id == path.split("/")[-1].split(".")[0]  # the member's id
    assert entry.target == "person:ann@acme.example"
    assert "hash" not in str(entry.after)


def test_an_expired_invitation_is_refused(people: People, console_client: Clients) -> None:
    path = invite(people)
    people.server.clock.advance(7 * 86_400 * SECOND)
    client = console_client()
    page = client.get(path)
    assert page.status_code == 410
    assert "expired" in page.text
    assert console_client().sign_in("ann@acme.example", "").status_code == 401


def test_a_short_or_mismatched_password_is_refused_and_the_link_stays_open(
    people: People, console_client: Clients
) -> None:
    path = invite(people)
    client = console_client()
    short = accept(client, path, "short")
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    differ = accept(client, path, NEW_PASSWORD, confirm="something else entirely")
    assert differ.status_code == 422
    assert "differ" in differ.text
    assert accept(client, path, NEW_PASSWORD).status_code == 303


def test_an_email_with_a_password_keeps_it_when_invited_elsewhere(
    people: People, console_client: Clients
) -> None:
    """One password per email: an invitation never replaces it."""
    other_id, other_key = make_workspace(people.server.engine, name="Globex")
    with httpx.Client(base_url=people.server.url) as http:
        created = make_member(http, key=other_key, email=people.shared, role="admin")
    assert created["has_password"] is True
    path = created["invitation_url"].removeprefix(people.server.url)
    page = console_client().get(path)
    assert page.status_code == 410
    assert "already has a password" in page.text
    client = console_client()
    assert client.sign_in(people.shared, PASSWORD).status_code == 303
    assert client.get(f"/console/w/{other_id}/plan").status_code != 403


def test_a_forged_invitation_is_refused(people: People, console_client: Clients) -> None:
    path = invite(people)
    member_id, expires, signature = path.split("/")[-1].split(".")
    later = int(expires) + 86_400
    for forged in (f"{member_id}.{later}.{signature}", f"{member_id}.{expires}.{'0' * 64}", "x"):
        assert console_client().get(f"/console/invitation/{forged}").status_code == 410
