"""The platform's public-API JWT: HS256, signed with the client secret, ``appId`` = the
client id; ``exp`` enforced when present (API.md, Compatibility).

Pure functions on the token text, the secret and ``now``: the caller looks the client up
between :func:`client_id_of` (which reads the token unverified, only to find whose secret
to check it with) and :func:`verify`.
"""

from __future__ import annotations

from typing import Any

import jwt

from botbill.compat.errors import unauthorized
from botbill.kit.instants import SECOND, Micros

ALGORITHM = "HS256"
"""The only algorithm the platform allows for API-scope apps; ``none`` and every other
algorithm (public-key ones included: no key confusion) are refused."""


def client_id_of(token: str) -> str:
    """The ``appId`` of a token, read without checking it; 401 when it has none."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise unauthorized("the auth token is not a valid JWT") from None
    if header.get("alg") != ALGORITHM:
        raise unauthorized(f"the auth token must be signed with {ALGORITHM}")
    app_id = claims.get("appId")
    if not isinstance(app_id, str) or not app_id:
        raise unauthorized("the auth token has no appId claim (the client id)")
    return app_id


def verify(token: str, *, secret: str, client_id: str, now: Micros) -> dict[str, Any]:
    """The token's claims once its signature, ``appId`` and ``exp`` hold at ``now``."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # exp is checked below against ``now``, not the machine's clock.
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        raise unauthorized("the auth token's signature does not match the client secret") from None
    except jwt.PyJWTError:
        raise unauthorized("the auth token is not a valid JWT") from None
    if claims.get("appId") != client_id:
        raise unauthorized("the auth token's appId is not this client")
    expiry = claims.get("exp")
    if expiry is not None:
        if not isinstance(expiry, int | float) or isinstance(expiry, bool):
            raise unauthorized("the auth token's exp claim is not a number")
        if now >= int(expiry * SECOND):
            raise unauthorized("the auth token has expired")
    return claims


def token_of(headers: dict[str, str]) -> str:
    """The JWT of a request: the ``auth`` header, else ``Authorization: Bearer``."""
    token = headers.get("auth", "").strip()
    if token[:7].lower() == "bearer ":  # some scripts prefix the JWT in 'auth' too
        token = token[7:].strip()
    if not token:
        scheme, _, rest = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = rest.strip()
    if not token:
        raise unauthorized("send a JWT in the 'auth' header")
    return token
