"""Signatures as the Standard Webhooks library checks them."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from botbill.webhooks.signing import SECRET_PREFIX, body_of, new_secret, signed_headers

T = 1_800_000_000_000_000


def test_a_signed_body_is_verified_by_the_standardwebhooks_library() -> None:
    secret = new_secret()
    body = body_of("order.paid", T, {"order_id": "ord_1", "amount": 25_000})
    headers = signed_headers(secret, "msg_1", time.time_ns() // 1_000, body)
    payload = Webhook(secret).verify(body, headers)
    assert payload == {
        "type": "order.paid",
        "timestamp": "2027-01-15T08:00:00Z",
        "data": {"order_id": "ord_1", "amount": 25_000},
    }


def test_another_secret_or_a_changed_body_fails_verification() -> None:
    secret = new_secret()
    body = body_of("order.paid", T, {"order_id": "ord_1"})
    headers = signed_headers(secret, "msg_1", time.time_ns() // 1_000, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"ord_1", b"ord_2"), headers)


def test_secrets_are_whsec_and_never_repeat() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(s.startswith(SECRET_PREFIX) and len(s) == len(SECRET_PREFIX) + 32 for s in secrets)
