from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from botbill.audit.models import AuditEntry
from botbill.kit.instants import from_micros


class ActorOut(BaseModel):
    kind: Literal["admin", "operator", "cli"]
    id: str = Field(description="The API key's or operator key's id; for `cli`, the OS user.")


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: ActorOut
    action: str = Field(examples=["app.owner_changed"])
    target: str = Field(examples=["app:support-bot"])
    before: dict[str, Any] | None = Field(description="The changed fields before; null if new.")
    after: dict[str, Any] | None = Field(description="The changed fields after; null if gone.")


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=from_micros(entry.at),
        actor=ActorOut(kind=entry.actor_kind, id=entry.actor_id),
        action=entry.action,
        target=entry.target,
        before=entry.before,
        after=entry.after,
    )
