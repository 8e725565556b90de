"""The CloudEvents HTTP binding's three content modes, read into validated events.

- structured: ``application/cloudevents+json`` (or ``application/json``) with one object;
- batched: ``application/cloudevents-batch+json`` (or ``application/json``) with an array;
- binary: attributes in ``ce-*`` headers, ``data`` as the body.

Every error names the event's index and the field: ``["events", 3, "data", "sender"]``.
Events are read into records by ``records.plain_record`` where they have the common
shape, and through the models otherwise (which word the errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import orjson
from pydantic import ValidationError

from botbill.events.records import EventRecord, model_record, plain_record
from botbill.events.schemas import EVENT_TYPES, event_adapter, event_list_adapter
from botbill.kit.problems import (
    BadRequest,
    FieldError,
    Invalid,
    PayloadTooLarge,
    UnsupportedMediaType,
)

MAX_LISTED_ERRORS = 100


def parse_events(
    body: bytes, *, content_type: str | None, headers: Mapping[str, str], max_events: int
) -> list[EventRecord]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/cloudevents-batch+json":
        return _batch(body, max_events)
    if media_type == "application/cloudevents+json":
        return [_single(body)]
    if media_type.startswith("application/cloudevents"):
        raise UnsupportedMediaType(
            f"unsupported event format {media_type!r}: only JSON is accepted "
            "(application/cloudevents+json, application/cloudevents-batch+json)"
        )
    if "ce-specversion" in headers:
        return [_binary(body, media_type, headers)]
    if media_type in ("application/json", ""):
        first = body.lstrip()[:1]
        if first == b"[":
            return _batch(body, max_events)
        if first == b"{":
            return [_single(body)]
        raise BadRequest("the body must be a JSON object (one event) or array (a batch)")
    raise UnsupportedMediaType(
        f"unsupported content type {media_type!r}: send application/cloudevents+json, "
        "application/cloudevents-batch+json, application/json, or binary mode (ce-* headers)"
    )


def _batch(body: bytes, max_events: int) -> list[EventRecord]:
    # Count before validating, so an oversized batch costs no validation work.
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None
    if not isinstance(raw, list):
        raise Invalid.at(["events"], "a batch must be a JSON array of events")
    if len(raw) > max_events:
        raise PayloadTooLarge(f"a batch holds at most {max_events} events; this one has {len(raw)}")
    if not raw:
        raise Invalid.at(["events"], "the batch is empty")
    records = [plain_record(event) for event in raw]
    plain = [record for record in records if record is not None]
    if len(plain) == len(records):
        return plain
    try:
        events = event_list_adapter.validate_json(body)
    except ValidationError as error:
        raise _invalid(error, prefix=()) from None
    return [
        record or model_record(event, raw_event)
        for record, event, raw_event in zip(records, events, raw, strict=True)
    ]


def _single(body: bytes) -> EventRecord:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None
    return _one(raw, body)


def _one(raw: Any, body: bytes) -> EventRecord:
    record = plain_record(raw)
    if record is not None:
        return record
    try:
        return model_record(event_adapter.validate_json(body), raw)
    except ValidationError as error:
        raise _invalid(error, prefix=(0,)) from None


def _binary(body: bytes, media_type: str, headers: Mapping[str, str]) -> EventRecord:
    attributes: dict[str, Any] = {
        name[3:]: unquote(value) for name, value in headers.items() if name.startswith("ce-")
    }
    if media_type:
        attributes["datacontenttype"] = media_type
    if body.strip():
        if media_type not in ("application/json", "") and not media_type.endswith("+json"):
            raise UnsupportedMediaType(f"event data must be JSON, not {media_type!r}")
        try:
            attributes["data"] = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise BadRequest(f"the body (event data) is not valid JSON: {error}") from None
    return _one(attributes, orjson.dumps(attributes))


def _invalid(error: ValidationError, *, prefix: tuple[int, ...]) -> Invalid:
    field_errors = [_field_error(raw, prefix) for raw in error.errors(include_url=False)]
    shown = field_errors[:MAX_LISTED_ERRORS]
    events = sorted(
        {e.loc[1] for e in field_errors if len(e.loc) > 1 and isinstance(e.loc[1], int)}
    )
    detail = f"{len(events)} invalid event(s), at index {', '.join(map(str, events[:20]))}"
    if len(events) > 20:
        detail += ", ..."
    detail += "; nothing was stored"
    return Invalid(detail, errors=shown)


def _field_error(raw: Mapping[str, Any], prefix: tuple[int, ...]) -> FieldError:
    loc: list[str | int] = [*prefix, *raw["loc"]]
    # A discriminated union puts the event type into the location: drop it.
    if len(loc) > 1 and loc[1] in EVENT_TYPES:
        del loc[1]
    msg: str = raw["msg"]
    kind = raw["type"]
    if kind == "union_tag_invalid":
        loc.append("type")
        tag = raw.get("ctx", {}).get("tag")
        msg = f"unknown event type {tag!r} (known: {', '.join(EVENT_TYPES)})"
    elif kind == "union_tag_not_found":
        loc.append("type")
        msg = "Field required"
    elif kind == "literal_error" and loc[-1] == "specversion":
        msg = "specversion must be '1.0'"
    return FieldError(["events", *loc], msg)
