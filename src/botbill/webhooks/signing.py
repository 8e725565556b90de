"""The Standard Webhooks signature scheme: secrets, signed headers, the body sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import orjson

from botbill.kit.instants import Micros, from_micros

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes (192 bits, within the scheme's 24-64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with the secret's
    decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def body_of(event_type: str, occurred_at: Micros, data: dict[str, Any]) -> bytes:
    """``{"type", "timestamp", "data"}``: the timestamp is when the change happened."""
    moment = from_micros(occurred_at)
    return orjson.dumps(
        {"type": event_type, "timestamp": moment, "data": data}, option=orjson.OPT_UTC_Z
    )


def signed_headers(secret: str, message_id: str, sent_at: Micros, body: bytes) -> dict[str, str]:
    """The three headers of a delivery attempt; the timestamp is when it is sent."""
    timestamp = sent_at // 1_000_000
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
