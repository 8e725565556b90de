"""Issuing and finding keys: a workspace's API keys and the platform operators' keys.

A secret is shown once, when it is issued; the database keeps its SHA-256 digest.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from botbill.auth.keys import LAST_USED_RESOLUTION, Scope, generate_key, hash_secret
from botbill.auth.models import ApiKey, OperatorKey
from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    secret: str


def create_key(
    session: Session, *, workspace_id: str, name: str, scopes: Iterable[Scope], now: Micros
) -> IssuedKey:
    """A new key of the workspace; its secret is returned only here (stored as a digest)."""
    new_key = generate_key()
    key = ApiKey(
        id=new_id("key"),
        workspace_id=workspace_id,
        name=name,
        prefix=new_key.prefix,
        secret_hash=new_key.secret_hash,
        scopes=",".join(sorted(scope.value for scope in scopes)),
        created_at=from_micros(now),
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, secret=new_key.secret)


def find_key(session: Session, secret: str) -> ApiKey | None:
    """The live key with this secret, if any."""
    key = session.scalars(
        select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret))
    ).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return key


def record_use(session: Session, key_id: str, *, now: Micros) -> None:
    """Set the key's ``last_used_at`` to ``now`` unless a use within the resolution is
    already written (by this process or another): one small write a minute at most."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at <= from_micros(now - LAST_USED_RESOLUTION),
            ),
        )
        .values(last_used_at=from_micros(now))
    )


OPERATOR_KEY_PREFIX = "bbop_"


def create_operator_key(session: Session, *, name: str, now: Micros) -> tuple[OperatorKey, str]:
    """A new operator key and its secret (returned only here; stored as a digest)."""
    name = name.strip()
    if not name:
        raise ValueError("an operator key needs a name")
    secret = OPERATOR_KEY_PREFIX + secrets.token_urlsafe(32)
    key = OperatorKey(
        id=new_id("opk"),
        name=name,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        created_at=from_micros(now),
    )
    session.add(key)
    session.flush()
    return key, secret


def find_operator_key(session: Session, secret: str) -> OperatorKey | None:
    key = session.scalars(
        select(OperatorKey).where(OperatorKey.secret_hash == hash_secret(secret))
    ).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return key
