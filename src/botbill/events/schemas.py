"""CloudEvents 1.0 as botbill accepts them (API.md, Events).

One model per event type, chosen by ``type``; every attribute and data field is checked
here, so an event that passes is one the engine can use as it stands.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it on every backend alike.
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


Text256 = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_no_nul)]
Ref128 = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_no_nul)]
AppRef = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
Channel = Literal["chat", "voice"]
# RFC 3339 date-time: seconds and an offset are required (pydantic alone would also take
# "2026-11-26T12:00Z", "+0530" or a Unix timestamp in a string).
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


class _Data(BaseModel):
    # Unknown data fields are kept in the stored event and ignored by the engine.
    model_config = ConfigDict(extra="allow", strict=True)


class ConversationData(_Data):
    conversation_id: Ref128
    channel: Channel | None = None
    developer: bool = False


class MessageData(ConversationData):
    sender: Literal["user", "bot", "agent"]


class TransferData(_Data):
    conversation_id: Ref128
    agent_id: Ref128 | None = None
    channel: Channel | None = None
    developer: bool = False


class AlertData(_Data):
    alert_id: Ref128 | None = None
    user_id: Ref128 | None = None
    developer: bool = False


class SeatData(_Data):
    agent_id: Ref128


class _Event(BaseModel):
    # Unknown extension attributes are kept and ignored (CloudEvents 1.0).
    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: Text256
    source: Text256
    time: AwareDatetime
    subject: AppRef
    datacontenttype: str | None = None
    dataschema: str | None = None

    @field_validator("time", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> object:
        if isinstance(value, datetime):
            return value
        if not isinstance(value, str) or not RFC3339.fullmatch(value):
            raise ValueError("time must be RFC 3339 with an offset, e.g. 2026-11-26T09:30:00Z")
        return value


class ConversationStarted(_Event):
    type: Literal["conversation.started"]
    data: ConversationData


class ConversationMessage(_Event):
    type: Literal["conversation.message"]
    data: MessageData


class ConversationTransferred(_Event):
    type: Literal["conversation.transferred"]
    data: TransferData


class ConversationReturned(_Event):
    type: Literal["conversation.returned"]
    data: ConversationData


class ConversationEnded(_Event):
    type: Literal["conversation.ended"]
    data: ConversationData


class AlertDelivered(_Event):
    type: Literal["alert.delivered"]
    data: AlertData = Field(default_factory=lambda: AlertData())


class SeatAssigned(_Event):
    type: Literal["agent.seat_assigned"]
    data: SeatData


class SeatReleased(_Event):
    type: Literal["agent.seat_released"]
    data: SeatData


AnyEvent = Annotated[
    ConversationStarted
    | ConversationMessage
    | ConversationTransferred
    | ConversationReturned
    | ConversationEnded
    | AlertDelivered
    | SeatAssigned
    | SeatReleased,
    Field(discriminator="type"),
]
EVENT_TYPES: tuple[str, ...] = (
    "conversation.started",
    "conversation.message",
    "conversation.transferred",
    "conversation.returned",
    "conversation.ended",
    "alert.delivered",
    "agent.seat_assigned",
    "agent.seat_released",
)
CONVERSATION_TYPES = frozenset(t for t in EVENT_TYPES if t.startswith("conversation."))
SEAT_TYPES = frozenset({"agent.seat_assigned", "agent.seat_released"})

event_list_adapter: TypeAdapter[list[AnyEvent]] = TypeAdapter(list[AnyEvent])
event_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

STANDARD_ATTRIBUTES = frozenset(
    {
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "data",
        "datacontenttype",
        "dataschema",
    }
)


def extensions_of(event: BaseModel) -> dict[str, Any] | None:
    """Attributes beyond CloudEvents' own, kept as sent."""
    return dict(event.model_extra) if event.model_extra else None


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
