"""The two readers of an event agree: ``plain_record`` (no models, the common shape) never
accepts what the models refuse, and where it accepts, it gives the models' record."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from botbill.demo.traffic import demo_apps, generate
from botbill.events.parsing import parse_events
from botbill.events.records import EventRecord, model_record, plain_record
from botbill.events.schemas import EVENT_TYPES, event_adapter
from botbill.kit.instants import to_micros
from botbill.kit.problems import Invalid
from tests.factories import T0

NOW = to_micros(T0)

BATCH = "application/cloudevents-batch+json"

MISSING = object()

# What a sender might put in each field: the usual values (drawn most of the time, so
# that many events are valid) and near misses and wrong types (drawn now and then).
USUAL_TIMES = [
    "2026-11-26T09:30:12Z",
    "2026-11-26T09:30:12.5Z",
    "2026-11-26T09:30:12.123456Z",
    "2026-11-26T09:30:12+05:30",
    "2026-11-26T09:30:12-00:00",
    "2026-11-26T09:30:12+23:59",
    "2026-11-26t09:30:12z",
    "2026-11-26 09:30:12Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999-23:59",
]
ODD_TIMES = [
    "2026-11-26T09:30:12.1234567Z",
    "2026-11-26T09:30:12+24:00",
    "2026-11-26T09:30:12+05:60",
    "2026-11-26T09:30Z",
    "2026-11-26T09:30:60Z",
    "2026-11-26T24:00:00Z",
    "2026-02-30T09:30:12Z",
    "2026-13-01T09:30:12Z",
    "0000-01-01T00:00:00Z",
    "2026-11-26T09:30:12",
    "2026-11-26T09:30:12+0530",
    "20261126T093012Z",
    "1795685412",
    1795685412,
    None,
    True,
    [],
]
USUAL_REFS = ["c-1", "a" * 128, "é", "  ", "ボット"]
ODD_REFS = ["a" * 129, "", "a\x00b", None, 7, True, ["c-1"], {"id": "c-1"}]
USUAL_TEXTS = ["runtime-a", "x" * 256, "é"]
ODD_TEXTS = ["x" * 257, "", "n\x00ul", None, 12, False]


# Times built from parts, each sometimes out of range: a date, a time, a fraction of 0
# to 7 digits, an offset.
BUILT_TIMES = st.builds(
    lambda y, mo, d, h, mi, s, fraction, offset: (
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{fraction}{offset}"
    ),
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.integers(0, 7).map(lambda digits: "." + "5" * digits if digits else ""),
    st.one_of(
        st.just("Z"),
        st.builds(
            lambda sign, oh, om: f"{sign}{oh:02d}:{om:02d}",
            st.sampled_from("+-"),
            st.integers(0, 25),
            st.integers(0, 60),
        ),
    ),
)


def field(usual: list[Any], odd: list[Any]) -> st.SearchStrategy[Any]:
    """A usual value nine times in ten, else an odd one or the field left out."""
    return st.integers(0, 9).flatmap(
        lambda n: st.sampled_from(usual) if n < 9 else st.sampled_from([*odd, MISSING])
    )


def optional(usual: list[Any], odd: list[Any]) -> st.SearchStrategy[Any]:
    return field([*usual, MISSING], odd)


# The data fields each type declares (required ones first), the rest being unknown to it.
REQUIRED = {
    "conversation.message": {"conversation_id", "sender"},
    "agent.seat_assigned": {"agent_id"},
    "agent.seat_released": {"agent_id"},
    "alert.delivered": set(),
}


@st.composite
def raw_events(draw: st.DrawFn) -> Any:
    kind = draw(field(list(EVENT_TYPES), ["conversation.paused", "", None, 3]))
    required = REQUIRED.get(kind, {"conversation_id"})
    values: dict[str, tuple[list[Any], list[Any]]] = {
        "conversation_id": (USUAL_REFS, ODD_REFS),
        "agent_id": (USUAL_REFS, ODD_REFS),
        "alert_id": (USUAL_REFS, ODD_REFS),
        "user_id": (USUAL_REFS, ODD_REFS),
        "channel": (["chat", "voice", None], ["sms", "", 1, True]),
        "sender": (["user", "bot", "agent"], ["human", None, 0]),
        "developer": ([True, False], [None, 0, 1, "true"]),
        "note": (["kept", 3, None, {"deep": [1]}], []),
    }
    data = {
        name: draw(field(usual, odd) if name in required else optional(usual, odd))
        for name, (usual, odd) in values.items()
    }
    event = {
        "specversion": draw(field(["1.0"], ["1.0 ", "0.3", 1.0])),
        "id": draw(field(USUAL_TEXTS, ODD_TEXTS)),
        "source": draw(field(USUAL_TEXTS, ODD_TEXTS)),
        "type": kind,
        "subject": draw(
            field(
                ["support-bot", "a" * 64, "A_b-9"], ["a" * 65, "bad bot", "", "bot\n", "ボット", 5]
            )
        ),
        "time": draw(st.one_of(field(USUAL_TIMES, ODD_TIMES), BUILT_TIMES)),
        "datacontenttype": draw(optional(["application/json", None], [3])),
        "dataschema": draw(optional(["https://example.com/s", None], [3])),
        "region": draw(optional(["eu", 7, None], [])),
        "data": draw(
            field(["kept"], ["none", "null", "list"]).map(
                lambda how: {
                    "kept": {k: v for k, v in data.items() if v is not MISSING},
                    "none": {},
                    "null": None,
                    "list": [1],
                }.get(how, MISSING)
            )
        ),
    }
    return {name: value for name, value in event.items() if value is not MISSING}


def by_models(raw: Any) -> EventRecord | None:
    try:
        return model_record(event_adapter.validate_json(orjson.dumps(raw)), raw)
    except ValidationError:
        return None


def envelope(kind: str, **fields: Any) -> dict[str, Any]:
    """A valid event of ``kind`` with the usual attributes, ``fields`` added or replaced."""
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": "runtime-a",
        "type": kind,
        "subject": "support-bot",
        "time": "2026-11-26T09:30:12Z",
    } | fields


@settings(max_examples=2000, deadline=None)
@given(raw_events())
def test_plain_record_accepts_only_what_the_models_accept_and_gives_their_record(
    raw: Any,
) -> None:
    plain = plain_record(raw)
    if plain is not None:
        assert by_models(raw) == plain


def test_generated_cases_reach_both_outcomes() -> None:
    """The strategy above is not vacuous: it finds plain events and events the models
    alone accept (checked on hand-picked cases, not by luck of the draw)."""
    event = envelope(
        "conversation.message",
        time="2026-11-26T09:30:12.5+05:30",
        region="eu",
        data={"conversation_id": "c-1", "sender": "user", "note": "kept"},
    )
    plain = plain_record(event)
    assert plain == by_models(event)
    assert plain is not None
    assert plain.time == to_micros(event_adapter.validate_python(event).time)
    assert (plain.sender, plain.channel, plain.developer) == ("user", None, False)
    assert orjson.loads(plain.data) == event["data"]
    assert orjson.loads(plain.extensions or "null") == {"region": "eu"}

    rarer = event | {"time": "2026-11-26 09:30:12.5+05:30"}
    assert plain_record(rarer) is None
    assert by_models(rarer) == plain  # the same instant, read by the models

    assert plain_record(event | {"time": "2026-02-30T09:30:12Z"}) is None
    assert by_models(event | {"time": "2026-02-30T09:30:12Z"}) is None


def test_alert_without_data_reads_as_empty_data() -> None:
    alert = envelope("alert.delivered", id="a-1")
    plain = plain_record(alert)
    assert plain is not None
    assert plain.data == "{}"
    assert plain.extensions is None
    assert plain == by_models(alert)


def test_every_demo_event_takes_the_plain_path() -> None:
    """What real senders send is read without the models (the fast path is in use)."""
    events = list(generate(apps=demo_apps(), now=NOW, days=2, seed=3, scale=0.3))
    assert all(plain_record(event) is not None for event in events)
    assert {event["type"] for event in events} == set(EVENT_TYPES)


def test_a_batch_mixing_both_forms_keeps_order_and_values() -> None:
    first = envelope("conversation.started", data={"conversation_id": "c-1"})
    second = first | {"id": "e-2", "time": "2026-11-26t09:31:12z"}
    records = parse_events(
        orjson.dumps([first, second]), content_type=BATCH, headers={}, max_events=10
    )
    assert [record.event_id for record in records] == ["e-1", "e-2"]
    assert records[1].time - records[0].time == 60_000_000
    assert records[0] == plain_record(first)


def test_a_bad_event_among_plain_ones_is_reported_by_the_models() -> None:
    good = envelope("conversation.message", data={"conversation_id": "c-1", "sender": "user"})
    bad = good | {"id": "e-2", "data": {"conversation_id": "c-1", "sender": "human"}}
    with pytest.raises(Invalid) as raised:
        parse_events(orjson.dumps([good, bad]), content_type=BATCH, headers={}, max_events=10)
    assert [list(error.loc) for error in raised.value.errors] == [["events", 1, "data", "sender"]]
