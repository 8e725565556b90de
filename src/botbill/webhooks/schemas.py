from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from botbill.kit.instants import Micros, from_micros
from botbill.webhooks.events import EventType
from botbill.webhooks.models import WebhookDelivery, WebhookEndpoint


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


def _distinct(types: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(types))


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_no_nul),
    Field(
        description="`https://...`; outside production also `http://localhost` or "
        "`http://127.0.0.1`."
    ),
]
EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=len(EventType), description="What to receive (SPEC §8)."),
    AfterValidator(_distinct),
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_no_nul),
    Field(description="For people: what the endpoint is for; at most 500 characters."),
]


class EndpointCreate(BaseModel):
    """``POST /v1/webhook-endpoints``."""

    model_config = ConfigDict(extra="forbid")

    url: Url
    event_types: EventTypes
    description: Description = ""


class EndpointUpdate(BaseModel):
    """``PATCH /v1/webhook-endpoints/{id}``: the fields given change, the rest stay."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: StrictBool | None = Field(
        default=None,
        description="A disabled endpoint gets nothing; its pending "
        "deliveries wait until it is enabled again.",
    )


class EndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="`whsec_...`: the signing secret, shown only now.")


class SecretOut(BaseModel):
    id: str
    secret: str = Field(
        description="The new signing secret, shown only now; the old one signs nothing from now on."
    )


class DeliveryOut(BaseModel):
    id: str
    endpoint_id: str
    event_id: str = Field(description="Sent as `webhook-id`: the same for every attempt.")
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_attempt_at: datetime | None
    last_response_code: int | None = Field(
        description="The HTTP status of the last attempt; null when none answered."
    )
    last_error: str | None = Field(description="Why the last attempt got no answer.")
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next.")
    created_at: datetime


def _moment(instant: Micros | None) -> datetime | None:
    return None if instant is None else from_micros(instant)


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        enabled=endpoint.enabled,
        created_at=from_micros(endpoint.created_at),
        updated_at=from_micros(endpoint.updated_at),
    )


def endpoint_with_secret(endpoint: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret(**endpoint_out(endpoint).model_dump(), secret=endpoint.secret)


def delivery_out(delivery: WebhookDelivery, event_type: str) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_attempt_at=_moment(delivery.last_attempt_at),
        last_response_code=delivery.last_status_code,
        last_error=delivery.last_error,
        next_attempt_at=_moment(delivery.next_attempt_at if delivery.status == "pending" else None),
        created_at=from_micros(delivery.created_at),
    )
