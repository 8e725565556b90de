"""What the fuzzer (``make fuzz``, ``test_fuzz.py``) found, each kept as a regression test.

docs/reliability.md lists them with their fixes.
"""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.extensions.factories import asked, decide
from tests.factories import problem
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
