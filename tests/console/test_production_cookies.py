"""In production the console's cookies are ``Secure``; every page forbids framing."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from botbill.app import create_app
from botbill.kit.clock import FrozenClock
from botbill.kit.instants import to_micros
from botbill.settings import Settings
from tests.console.kit import PASSWORD, csrf_of, make_person
from tests.factories import T0, make_workspace, serving


def test_the_session_cookie_is_secure_in_production(db: Engine, database_url: str) -> None:
    workspace_id, _ = make_workspace(db)
    make_person(db, workspace_id=workspace_id, email="ann@acme.example", role="admin")
    settings = Settings(
        environment="production",
        secret_key="a production secret for this test only",
        database_url=database_url,
        migrate_on_start=False,
        jobs_enabled=False,
    )
    with (
        serving(create_app(settings, clock=FrozenClock(to_micros(T0)))) as url,
        httpx.Client(base_url=url, follow_redirects=False) as http,
    ):
        form = http.get("/console/sign-in")
        presession = form.headers["set-cookie"]
        assert "secure" in presession.lower()
        assert form.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
        assert form.headers["cache-control"] == "no-store"
        # A Secure cookie is not sent back over plain HTTP by the client: send it by hand.
        response = http.post(
            "/console/sign-in",
            data={
                "email": "ann@acme.example",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
            },
            headers={"cookie": presession.split(";", 1)[0]},
        )
    assert response.status_code == 303
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("botbill_session=")
    ).lower()
    assert "secure" in session_cookie
    assert "httponly" in session_cookie
