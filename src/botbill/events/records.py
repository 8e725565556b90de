"""Events as botbill stores them: one ``EventRecord`` per event, read straight from JSON.

The models in ``schemas.py`` define what a valid event is and word every error. Reading a
thousand events through them cost more than storing them, so each event is first read by
``plain_record``, which recognises the shape nearly every sender uses (an RFC 3339 time
in ``...T...Z`` or ``±hh:mm`` form, the documented fields with their documented types)
and builds the record in a few dictionary reads. Anything it does not recognise — an
error, or a valid event in a rarer form such as ``2026-11-26 09:30:00z`` — goes through
the models, which accept it or say exactly why not. ``plain_record`` never accepts what
the models would refuse: a property test holds the two readers to the same answers.

``data`` and the extension attributes are kept as sent, as JSON text (the columns are
written as text and nothing on the ingest path reads them back).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeGuard

import orjson

from botbill.events.schemas import STANDARD_ATTRIBUTES, AnyEvent, extensions_of
from botbill.kit.instants import Micros, to_micros


class EventRecord(NamedTuple):
    """A valid event, as the ``events`` table holds it (less workspace and arrival)."""

    source: str
    event_id: str
    type: str
    app_id: str
    time: Micros
    conversation_id: str | None
    agent_id: str | None
    sender: str | None
    channel: str | None
    developer: bool
    data: str
    extensions: str | None


def model_record(event: AnyEvent, raw: dict[str, Any]) -> EventRecord:
    """The record of an event the models have validated (``raw`` is what was sent)."""
    # Columns hold declared, validated fields only: an unknown data field of the same
    # name (``agent_id`` on a conversation start) stays in ``data`` and nowhere else.
    fields = vars(event.data)
    field = fields.get
    extensions = extensions_of(event)
    return EventRecord(
        event.source,
        event.id,
        event.type,
        event.subject,
        to_micros(event.time),
        field("conversation_id"),
        field("agent_id"),
        field("sender"),
        field("channel"),
        field("developer", False),
        orjson.dumps(raw.get("data", {})).decode(),
        None if extensions is None else orjson.dumps(extensions).decode(),
    )


# --- the common shape, without models -------------------------------------------------

# Offsets up to ±23:59 (datetime.fromisoformat would take "+05:60" as +06:00; the models
# refuse it). Out-of-range dates and times make fromisoformat raise.
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
).fullmatch
_APP = re.compile(r"[a-zA-Z0-9_-]{1,64}", re.ASCII).fullmatch
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHANNELS = (None, "chat", "voice")
_SENDERS = ("user", "bot", "agent")

# What a data object of each type holds, read from its dictionary: conversation id,
# agent id, sender, channel, developer, or None when the shape is not the plain one.
_Fields = tuple[str | None, str | None, str | None, str | None, bool]


def _ref(value: object) -> TypeGuard[str]:
    return type(value) is str and 0 < len(value) <= 128 and "\x00" not in value


def _optional_ref(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    return value is None or _ref(value)


def _flag(data: dict[str, Any]) -> bool | None:
    # Data models are strict: only JSON true and false are booleans.
    value = data.get("developer", False)
    return value if type(value) is bool else None


def _conversation(data: dict[str, Any]) -> _Fields | None:
    conversation_id, channel = data.get("conversation_id"), data.get("channel")
    developer = _flag(data)
    if not _ref(conversation_id) or channel not in _CHANNELS or developer is None:
        return None
    return conversation_id, None, None, channel, developer


def _message(data: dict[str, Any]) -> _Fields | None:
    fields = _conversation(data)
    sender = data.get("sender")
    if fields is None or type(sender) is not str or sender not in _SENDERS:
        return None
    return fields[0], None, sender, fields[3], fields[4]


def _transfer(data: dict[str, Any]) -> _Fields | None:
    fields = _conversation(data)
    if fields is None or not _optional_ref(data, "agent_id"):
        return None
    return fields[0], data.get("agent_id"), None, fields[3], fields[4]


def _alert(data: dict[str, Any]) -> _Fields | None:
    developer = _flag(data)
    if developer is None or not _optional_ref(data, "alert_id"):
        return None
    if not _optional_ref(data, "user_id"):
        return None
    return None, None, None, None, developer


def _seat(data: dict[str, Any]) -> _Fields | None:
    agent_id = data.get("agent_id")
    return (None, agent_id, None, None, False) if _ref(agent_id) else None


_DATA = {
    "conversation.started": _conversation,
    "conversation.message": _message,
    "conversation.transferred": _transfer,
    "conversation.returned": _conversation,
    "conversation.ended": _conversation,
    "alert.delivered": _alert,
    "agent.seat_assigned": _seat,
    "agent.seat_released": _seat,
}


def plain_record(raw: object) -> EventRecord | None:
    """The record of an event in the common shape; None sends it to the models."""
    if type(raw) is not dict:
        return None
    get = raw.get
    kind = get("type", "")
    read = _DATA.get(kind) if type(kind) is str else None
    if read is None:
        return None
    source, event_id, subject, time = get("source"), get("id"), get("subject"), get("time")
    if (
        get("specversion") != "1.0"
        or type(source) is not str
        or type(event_id) is not str
        or not 0 < len(source) <= 256
        or not 0 < len(event_id) <= 256
        or "\x00" in source
        or "\x00" in event_id
        or type(subject) is not str
        or not _APP(subject)
        or type(time) is not str
        or not _TIME(time)
        or type(get("datacontenttype", "")) is not str
        or type(get("dataschema", "")) is not str
    ):
        return None
    data = get("data", {}) if kind == "alert.delivered" else get("data")
    if type(data) is not dict:
        return None
    fields = read(data)
    if fields is None:
        return None
    try:
        delta = datetime.fromisoformat(time) - _EPOCH
    except ValueError:  # a date or an offset out of range: the models word the error
        return None
    extensions = None
    if not STANDARD_ATTRIBUTES.issuperset(raw):
        extensions = orjson.dumps(
            {name: value for name, value in raw.items() if name not in STANDARD_ATTRIBUTES}
        ).decode()
    return EventRecord(
        source,
        event_id,
        kind,
        subject,
        (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds,
        *fields,
        orjson.dumps(data).decode(),
        extensions,
    )
