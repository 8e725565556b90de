"""Recording admin and operator actions, and reading them back.

:func:`record` adds its row to the caller's session, so the entry commits or rolls back
with the action itself: a refused or failed action leaves no entry, and no action
happens without one.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from botbill.audit.models import AuditEntry
from botbill.kit.instants import Micros


class ActorKind(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    CLI = "cli"
    PERSON = "person"


class Action(StrEnum):
    APP_CREATED = "app.created"
    APP_UPDATED = "app.updated"
    APP_OWNER_CHANGED = "app.owner_changed"
    MEMBER_ADDED = "member.added"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    SUBSCRIPTION_PLAN_CHANGED = "subscription.plan_changed"
    SUBSCRIPTION_CHANGE_WITHDRAWN = "subscription.change_withdrawn"
    SUBSCRIPTION_SETTINGS_CHANGED = "subscription.settings_changed"
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"
    WORKSPACE_ACCOUNT_TYPE_CHANGED = "workspace.account_type_changed"
    FUNDS_ADDED = "funds.added"
    EXTENSION_REQUESTED = "extension.requested"
    EXTENSION_DECIDED = "extension.decided"
    ORDER_PAYMENT_CONFIRMED = "order.payment_confirmed"
    CATALOG_PLAN_SET = "catalog.plan_set"
    CREDIT_GRANTED = "credit.granted"
    BILLING_PROFILE_SET = "billing_profile.set"
    SELLER_PROFILE_SET = "seller_profile.set"
    INVOICE_VOIDED = "invoice.voided"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    API_CLIENT_CREATED = "api_client.created"
    API_CLIENT_REVOKED = "api_client.revoked"
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"
    WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"
    WEBHOOK_SECRET_ROTATED = "webhook_endpoint.secret_rotated"
    WEBHOOK_DELIVERY_RETRIED = "webhook_delivery.retried"
    PASSWORD_SET = "person.password_set"
    OPERATOR_PERSON_CREATED = "operator.person_created"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: the key that made the request, or the person at the command line."""

    kind: ActorKind
    id: str

    @classmethod
    def admin(cls, key_id: str) -> Actor:
        return cls(ActorKind.ADMIN, key_id)

    @classmethod
    def operator(cls, key_id: str) -> Actor:
        return cls(ActorKind.OPERATOR, key_id)

    @classmethod
    def person(cls, person_id: str) -> Actor:
        """A person signed in to the console: a member, or a platform operator."""
        return cls(ActorKind.PERSON, person_id)

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user running ``botbill`` (the CLI has no key)."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (e.g. some containers)
            user = "unknown"
        return cls(ActorKind.CLI, user[:64] or "unknown")


def target(kind: str, ident: str) -> str:
    """``app:support-bot``: what an action was done to."""
    return f"{kind}:{ident}"


def _as_json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A JSON object exactly as it will read back (datetimes become RFC 3339 text)."""
    if value is None:
        return None
    loaded: dict[str, Any] = orjson.loads(
        orjson.dumps(dict(value), option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)
    )
    return loaded


def record(
    session: Session,
    *,
    workspace_id: str | None,
    actor: Actor,
    action: Action,
    target: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    now: Micros,
) -> AuditEntry:
    """Add one entry to the audit log, in the caller's transaction (flushed, not committed).

    ``workspace_id`` is ``None`` only for platform-wide actions (the plan catalog).
    ``before``/``after`` are the changed fields as JSON objects; ``None`` where the thing
    did not exist (before a creation, after a removal).
    """
    entry = AuditEntry(
        workspace_id=workspace_id,
        at=now,
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        action=action.value,
        target=target,
        before=_as_json(before),
        after=_as_json(after),
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    workspace_id: str,
    *,
    action: Action | None = None,
    target: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """A workspace's entries, newest first (by the order they were written)."""
    query = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    if action is not None:
        query = query.where(AuditEntry.action == action.value)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
