"""An amount beyond 64 bits with an ``Idempotency-Key`` is judged by the amount's own
rule (a clear 422, nothing booked), not refused with 500 by the idempotency step."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.factories import auth, error_locs, problem
from tests.wallet.accounts import funded_app, money_state, tenant


def test_an_amount_beyond_64_bits_with_a_key_is_a_clear_422(
    server: Server, http: httpx.Client
) -> None:
    who = tenant(server.engine)
    funded_app(http, server.engine, who, plan="standard", amount=10_000)
    before = money_state(server.engine)
    response = http.post(
        "/v1/apps/support-bot/funds",
        json={"amount": 2**64, "payment_method": "card", "token": "tok_ok"},
        headers={**auth(who.key), "Idempotency-Key": "big-amount"},
    )
    body = problem(response, 422)
    assert error_locs(body) == [["body", "amount"]]
    assert money_state(server.engine) == before  # nothing booked, the key not kept
