"""Client secrets: generated, shown once, and kept encrypted at rest.

HS256 signatures are checked with the secret itself, so a digest cannot do; the secret is
encrypted with AES-GCM under a key derived by HKDF-SHA256 from ``BOTBILL_SECRET_KEY``,
with the client id as associated data (a ciphertext copied onto another client's row
does not decrypt). Changing the server's secret key makes every client's secret
unreadable: those clients must be created again.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def new_secret() -> str:
    """256 random bits, URL-safe: a plain string the client signs its JWTs with."""
    return secrets.token_urlsafe(32)


@lru_cache(maxsize=4)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"botbill api client secrets"
    ).derive(secret_key.encode())
    return AESGCM(key)


def seal(secret: str, *, client_id: str, secret_key: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(secret_key).encrypt(nonce, secret.encode(), client_id.encode())


def unseal(sealed: bytes, *, client_id: str, secret_key: str) -> str:
    """The secret; raises ``cryptography.exceptions.InvalidTag`` if it was sealed under
    another key or for another client."""
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    return _cipher(secret_key).decrypt(nonce, ciphertext, client_id.encode()).decode()
