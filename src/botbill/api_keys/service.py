"""A workspace's API keys: list, issue, revoke, each action in the audit log.

The HTTP routes and ``botbill key`` call these, so both record the same entry.
An admin key may revoke any key of its workspace, itself and the last admin key
included (as Stripe allows): the command line can always issue a new one.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.audit.service import Action, Actor, record, target
from botbill.auth.keys import Scope
from botbill.auth.models import ApiKey
from botbill.auth.service import IssuedKey, create_key
from botbill.kit.instants import Micros, from_micros
from botbill.kit.problems import Conflict, NotFound


def list_keys(
    session: Session, workspace_id: str, *, after: str | None = None, limit: int = 50
) -> list[ApiKey]:
    """The workspace's keys, revoked ones too (with ``revoked_at``), by id."""
    query = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
    if after is not None:
        query = query.where(ApiKey.id > after)
    return list(session.scalars(query.order_by(ApiKey.id).limit(limit)))


def issue(
    session: Session,
    workspace_id: str,
    *,
    name: str,
    scopes: Iterable[Scope],
    actor: Actor,
    now: Micros,
) -> IssuedKey:
    issued = create_key(
        session, workspace_id=workspace_id, name=name, scopes=frozenset(scopes), now=now
    )
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.API_KEY_CREATED,
        target=target("api_key", issued.key.id),
        before=None,
        after={"name": issued.key.name, "scopes": issued.key.scopes.split(",")},
        now=now,
    )
    return issued


def revoke(
    session: Session, workspace_id: str, key_id: str, *, actor: Actor, now: Micros
) -> ApiKey:
    """Revoke a live key of the workspace; another workspace's id is unknown (404), an
    already revoked key a 409 (its ``revoked_at`` stays the first one)."""
    key = session.get(ApiKey, key_id) if "\x00" not in key_id else None
    if key is None or key.workspace_id != workspace_id:
        raise NotFound(f"no API key {key_id!r}")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id!r} was already revoked at {key.revoked_at.isoformat()}")
    key.revoked_at = from_micros(now)
    session.flush()
    record(
        session,
        workspace_id=workspace_id,
        actor=actor,
        action=Action.API_KEY_REVOKED,
        target=target("api_key", key.id),
        before={"revoked_at": None},
        after={"revoked_at": key.revoked_at},
        now=now,
    )
    return key
