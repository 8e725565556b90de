"""Signing in and out over HTTP (no browser): sessions, throttling, CSRF, the picker."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from botbill.audit.service import Actor
from botbill.kit.db import unit_of_work
from botbill.people.models import ConsoleSession, SignInFailure
from botbill.people.rules import HOUR, LOCKOUT
from botbill.people.service import set_password
from tests.console.conftest import People
from tests.console.kit import PASSWORD, ConsoleClient, csrf_of, make_person
from tests.factories import make_workspace

Clients = Callable[[], ConsoleClient]


def _count(people: People, model: type[ConsoleSession] | type[SignInFailure]) -> int:
    with unit_of_work(people.server.engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_member_signs_in_with_a_session_cookie_and_lands_on_the_first_section(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    response = client.sign_in(people.admin)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("botbill_session=")
    ).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie  # only in production
    assert client.get("/console").headers["location"] == people.url("billing-sessions")
    assert client.get(people.url("billing-sessions")).status_code == 200


def test_the_cookie_holds_a_token_the_database_never_stores(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    client.sign_in(people.admin)
    token = client.http.cookies["botbill_session"]
    with unit_of_work(people.server.engine, write=False) as session:
        stored = session.scalars(select(ConsoleSession.token_hash)).all()
    assert len(stored) == 1
    assert token not in stored[0]
    assert len(stored[0]) == 64


def test_a_wrong_password_and_an_unknown_email_get_the_same_refusal(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    wrong = client.sign_in(people.admin, "not the password")
    unknown = client.sign_in("nobody@acme.example", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an account" in wrong.text
    assert wrong.text.replace(people.admin, "") == unknown.text.replace("nobody@acme.example", "")
    assert "botbill_session" not in client.http.cookies
    assert _count(people, ConsoleSession) == 0


def test_a_member_without_a_password_cannot_sign_in(
    people: People, console_client: Clients
) -> None:
    make_person(
        people.server.engine,
        workspace_id=people.workspace_id,
        email="new@acme.example",
        role="admin",
        password=None,
    )
    assert console_client().sign_in("new@acme.example", "").status_code == 401


def test_five_failures_lock_that_email_from_that_address_only_for_15_minutes(
    people: People, console_client: Clients
) -> None:
    attacker = console_client()
    attacker.http.headers["X-Forwarded-For"] = "203.0.113.7"
    for _ in range(5):
        assert attacker.sign_in(people.admin, "guess").status_code == 401
    locked = attacker.sign_in(people.admin, PASSWORD)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == str(LOCKOUT // 1_000_000)
    assert "Too many failed sign-ins" in locked.text
    assert "botbill_session" not in attacker.http.cookies
    assert _count(people, SignInFailure) == 5  # knocking on a lock is not a failure

    # The admin, from elsewhere, and another email from the attacker's address still sign in.
    assert console_client().sign_in(people.admin).status_code == 303
    assert attacker.sign_in(people.shared).status_code == 303

    people.server.clock.advance(LOCKOUT)
    again = console_client()
    again.http.headers["X-Forwarded-For"] = "203.0.113.7"
    assert again.sign_in(people.admin).status_code == 303
    assert _count(people, SignInFailure) == 0  # a success forgets the pair's failures


def test_sign_out_ends_the_session_on_the_server(people: People, console_client: Clients) -> None:
    client = console_client()
    client.sign_in(people.admin)
    token = client.http.cookies["botbill_session"]
    response = client.post("/console/sign-out")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in"
    assert _count(people, ConsoleSession) == 0
    replay = console_client()
    replay.http.cookies.set("botbill_session", token, path="/console")
    refused = replay.get(people.url("billing-sessions"))
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/console/sign-in?next=")


def test_a_password_change_ends_every_session_of_the_email(
    people: People, console_client: Clients
) -> None:
    first, second = console_client(), console_client()
    first.sign_in(people.admin)
    second.sign_in(people.admin)
    other = console_client()
    other.sign_in(people.owner)
    with unit_of_work(people.server.engine, write=True) as session:
        set_password(
            session,
            people.admin,
            "a brand new password",
            actor=Actor.cli(),
            now=people.server.clock.now(),
        )
    for client in (first, second):
        assert client.get(people.url("billing-sessions")).status_code == 303
    assert other.get(people.url("billing-sessions")).status_code == 200
    assert console_client().sign_in(people.admin).status_code == 401
    assert console_client().sign_in(people.admin, "a brand new password").status_code == 303


def test_a_session_ends_after_12_hours_idle_and_use_keeps_it_alive(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    client.sign_in(people.admin)
    page = people.url("billing-sessions")
    for _ in range(3):
        people.server.clock.advance(11 * HOUR)
        assert client.get(page).status_code == 200
    people.server.clock.advance(12 * HOUR)
    assert client.get(page).status_code == 303


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    client.sign_in(people.admin)
    for data in ({}, {"csrf_token": "forged"}):
        refused = client.post("/console/sign-out", data, csrf=False)
        assert refused.status_code == 403
        assert "security token" in refused.text
    assert _count(people, ConsoleSession) == 1
    assert client.get(people.url("billing-sessions")).status_code == 200
    # The header form is accepted in place of the field.
    by_header = client.http.post("/console/sign-out", headers={"X-CSRF-Token": client.csrf_token})
    assert by_header.status_code == 303
    assert _count(people, ConsoleSession) == 0


def test_a_sign_in_post_without_its_csrf_token_is_refused(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    client.get("/console/sign-in")
    refused = client.http.post(
        "/console/sign-in", data={"email": people.admin, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert _count(people, ConsoleSession) == 0
    assert _count(people, SignInFailure) == 0


def test_signed_out_pages_send_to_sign_in_and_come_back(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    assert client.get("/console").headers["location"] == "/console/sign-in"
    target = people.url("orders")
    refused = client.get(target)
    assert refused.status_code == 303
    next_url = refused.headers["location"]
    form = client.get(next_url)
    assert f'name="next" value="{target}"' in form.text
    response = client.http.post(
        "/console/sign-in",
        data={
            "email": people.shared,
            "password": PASSWORD,
            "next": target,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert response.headers["location"] == target


def test_sign_in_never_sends_anyone_to_another_site(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    form = client.get("/console/sign-in?next=//evil.example/")
    response = client.http.post(
        "/console/sign-in",
        data={
            "email": people.admin,
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert response.headers["location"] == "/console"


def test_one_email_in_two_workspaces_picks_one(people: People, console_client: Clients) -> None:
    other_id, _ = make_workspace(people.server.engine, name="Globex")
    make_person(people.server.engine, workspace_id=other_id, email=people.shared, role="admin")
    client = console_client()
    client.sign_in(people.shared)
    assert client.get("/console").headers["location"] == "/console/workspaces"
    picker = client.get("/console/workspaces")
    assert picker.status_code == 200
    assert "Acme" in picker.text
    assert "Globex" in picker.text
    assert f'href="/console/w/{other_id}/billing-sessions"' in picker.text
    assert f'href="{people.url("billing-sessions")}"' in picker.text
    # The role is the membership's: Plan is open in Globex (admin), not in Acme (shared).
    assert client.get(f"/console/w/{other_id}/plan").status_code != 403
    assert client.get(people.url("plan")).status_code == 403


def test_another_workspace_is_not_found(people: People, console_client: Clients) -> None:
    other_id, _ = make_workspace(people.server.engine, name="Globex")
    client = console_client()
    client.sign_in(people.admin)
    for section in ("billing-sessions", "orders", "plan", "usage"):
        response = client.get(f"/console/w/{other_id}/{section}")
        assert response.status_code == 404
        assert "Globex" not in response.text
    assert client.get("/console/w/ws_nope/orders").status_code == 404


def test_an_operator_in_no_workspace_lands_on_the_operator_pages(
    people: People, console_client: Clients
) -> None:
    client = console_client()
    assert client.sign_in(people.operator).status_code == 303
    assert client.get("/console").headers["location"] == "/console/operator"
    assert client.get(people.url("usage")).status_code != 403
