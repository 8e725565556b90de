"""Platform operators' keys: created by ``botbill operator key create``, shown once."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.kit.ids import new_id
from botbill.kit.instants import Micros, from_micros
from botbill.operators.models import OperatorKey
from botbill.workspaces.keys import hash_secret

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
