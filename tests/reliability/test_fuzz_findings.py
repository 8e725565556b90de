"""What the fuzzer (``make fuzz``, ``test_fuzz.py``) found, each kept as a regression test.

docs/reliability.md lists them with their fixes.
"""

from __future__ import annotations

import httpx

from tests.audit.factories import log
from tests.conftest import Server
from tests.extensions.factories import asked, decide
from tests.factories import auth, make_member, problem
from tests.wallet.accounts import funded_app, operator_key, tenant


def test_a_decision_with_a_null_note_is_not_a_server_error(
    server: Server, http: httpx.Client
) -> None:
    """``{"approve": false, "note": null}`` ran the NUL check on None: a 500."""
    acme = tenant(server.engine)
    ops = operator_key(server.engine)
    problem(decide(http, ops, "0", approve=False, note=None), 404)
    funded_app(http, server.engine, acme, plan="advanced", amount=60_000)
    request_id = asked(http, acme.key)
    response = decide(http, ops, request_id, approve=False, note=None)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["note"]) == ("rejected", None)


def test_a_member_with_the_longest_email_is_added_and_audited(
    server: Server, http: httpx.Client
) -> None:
    """An email of 254 characters made an audit target of 261: PostgreSQL refused it (500)."""
    acme = tenant(server.engine)
    email = "a" * 64 + "@" + "b" * 185 + ".com"
    assert len(email) == 254
    added = make_member(http, key=acme.key, email=email, role="developer")
    assert added["email"] == email
    [entry] = log(http, acme.key, target=f"member:{email}")
    assert entry["action"] == "member.added"


def test_an_api_client_with_a_scope_repeated_is_issued_once_with_it(
    server: Server, http: httpx.Client
) -> None:
    """Ten copies of one scope overflowed the stored list on PostgreSQL: a 500."""
    acme = tenant(server.engine)
    body = {"name": "Enterprise", "scopes": ["billing_sessions:read"] * 10}
    response = http.post("/v1/api-clients", json=body, headers=auth(acme.key))
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == ["billing_sessions:read"]
    problem(http.post("/v1/api-clients", json={"name": "a\x00b"}, headers=auth(acme.key)), 422)
