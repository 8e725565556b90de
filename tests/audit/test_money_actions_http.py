"""Money and plan actions in the audit log: funds added, plan changes and their withdrawal."""

from __future__ import annotations

import httpx
import pytest

from tests.audit.test_audit_log_http import key_id, log
from tests.conftest import Server
from tests.factories import problem
from tests.wallet.accounts import Tenant, add_funds, new_app, tenant


@pytest.fixture
def acme(server: Server, http: httpx.Client) -> Tenant:
    who = tenant(server.engine)
    new_app(http, server.engine, who, plan="standard")
    return who


def test_funds_added_once_per_order(server: Server, http: httpx.Client, acme: Tenant) -> None:
    headers = {"Idempotency-Key": "k1"}
    order = add_funds(http, key=acme.key, amount=25_000, headers=headers).json()
    assert add_funds(http, key=acme.key, amount=25_000, headers=headers).status_code == 201
    entries = log(http, acme.key, action="funds.added")
    assert len(entries) == 1  # the replay moved no money and recorded nothing
    [entry] = entries
    assert entry["target"] == "app:support-bot"
    assert entry["actor"] == {"kind": "admin", "id": key_id(server, acme)}
    assert entry["before"] is None
    assert entry["after"]["id"] == order["id"]
    assert entry["after"]["amount"] == 25_000


def test_a_declined_card_records_nothing(server: Server, http: httpx.Client, acme: Tenant) -> None:
    problem(add_funds(http, key=acme.key, token="tok_declined"), 402)
    assert log(http, acme.key, action="funds.added") == []
