"""API keys: random secrets shown once and stored as SHA-256 digests.

A key has 256 bits of entropy, so a fast digest is enough (a slow hash guards guessable
passwords, not random keys) and lets every request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

KEY_PREFIX = "bb_"


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
