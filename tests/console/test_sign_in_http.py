"""Signing in and out over HTTP, without a browser."""

from __future__ import annotations

from collections.abc import Callable

from tests.console.conftest import People
from tests.console.kit import ConsoleClient


def test_a_member_signs_in_and_lands_on_the_first_section(
    people: People, console_client: Callable[[], ConsoleClient]
) -> None:
    client = console_client()
    response = client.sign_in(people.admin)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    landing = client.get("/console")
    assert landing.headers["location"] == people.url("billing-sessions")
