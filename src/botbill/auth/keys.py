"""API keys: random secrets shown once and stored as SHA-256 digests.

A key has 256 bits of entropy, so a fast digest is enough (a slow hash guards guessable
passwords, not random keys) and lets every request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from botbill.kit.instants import MINUTE, Micros

KEY_PREFIX = "bb_"

LAST_USED_RESOLUTION: Micros = MINUTE
"""``last_used_at`` is kept to this resolution: at most one write per key per minute,
never one per request."""


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class NewKey:
    secret: str
    prefix: str
    secret_hash: str


def generate_key() -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(secret=secret, prefix=secret[:10], secret_hash=hash_secret(secret))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[Scope]:
    """``"read,ingest"`` as scopes; an unknown scope is a ValueError naming it."""
    scopes: set[Scope] = set()
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(scope.value for scope in Scope)
            raise ValueError(f"unknown scope {name!r} (known: {known})") from None
    if not scopes:
        raise ValueError("at least one scope is needed")
    return frozenset(scopes)


def last_use_due(recorded: Micros | None, now: Micros) -> bool:
    """Whether a use at ``now`` should be written, the last one written being ``recorded``.

    A clock that went back (another process's ``now``) writes nothing: the recorded use
    is newer."""
    return recorded is None or now - recorded >= LAST_USED_RESOLUTION
