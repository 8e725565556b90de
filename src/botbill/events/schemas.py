"""CloudEvents 1.0 as botbill accepts them (API.md, Events).

One model per event type, chosen by ``type``; every attribute and data field is checked
here, so an event that passes is one the engine can use as it stands.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

Text256 = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Ref128 = Annotated[str, StringConstraints(min_length=1, max_length=128)]
AppRef = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
Channel = Literal["chat", "voice"]


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
    time: Annotated[AwareDatetime, Field(strict=True)]
    subject: AppRef
    datacontenttype: str | None = None
    dataschema: str | None = None


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
