"""SPEC §2.2 to §2.4: conversation sessions, bot time, usage and voice blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botbill.kit.instants import DAY, MINUTE, SECOND, SLOT, Micros, to_micros
from botbill.metering.conversations import (
    Block,
    ConversationEvent,
    ConversationSession,
    EventKind,
    sessionize,
)

T0 = to_micros(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
IDLE = 15 * MINUTE
LATER = T0 + 30 * DAY
"""A ``now`` long after every conversation, so all of them are completed."""

MESSAGE = EventKind.MESSAGE


def event(
    *,
    at: Micros,
    kind: EventKind = MESSAGE,
    sender: str | None = None,
    channel: str | None = None,
    developer: bool = False,
    event_id: str | None = None,
    source: str = "runtime",
) -> ConversationEvent:
    if kind is MESSAGE and sender is None:
        sender = "user"
    return ConversationEvent(
        time=at,
        kind=kind,
        event_id=event_id or f"{kind}-{sender}-{at}",
        source=source,
        sender=sender,
        channel=channel,
        developer=developer,
    )


def chat(*, start: Micros, end: Micros, step: Micros = 3 * MINUTE) -> list[ConversationEvent]:
    """A user and the bot taking turns every ``step`` from ``start`` to ``end``."""
    events = [event(at=start)]
    at = start + step
    while at < end:
        events.append(event(at=at, sender="bot" if len(events) % 2 else "user"))
        at += step
    if end > start:
        events.append(event(at=end, sender="bot"))
    return events


def with_agent(*, start: Micros, end: Micros) -> list[ConversationEvent]:
    """A transfer at ``start``, the user and the agent talking, a return at ``end``."""
    events = [event(at=start, kind=EventKind.TRANSFERRED)]
    for at in range(start + 3 * MINUTE, end, 3 * MINUTE):
        events.append(event(at=at, sender="user" if (at - start) % (6 * MINUTE) else "agent"))
    events.append(event(at=end, kind=EventKind.RETURNED))
    return events


def usage_counts(events: list[ConversationEvent], *, idle_timeout: Micros = IDLE) -> list[int]:
    return [s.usage_sessions for s in sessionize(events, idle_timeout=idle_timeout, now=LATER)]


# --- SPEC §2.3 worked examples ---------------------------------------------------------


def _bot_then_agent_then_bot() -> list[ConversationEvent]:
    return [
        *chat(start=T0, end=T0 + 10 * MINUTE),
        *with_agent(start=T0 + 10 * MINUTE, end=T0 + 30 * MINUTE),
        *chat(start=T0 + 30 * MINUTE, end=T0 + 36 * MINUTE),
    ]


def _agent_at_once() -> list[ConversationEvent]:
    events = [
        event(at=T0, kind=EventKind.STARTED),
        event(at=T0, kind=EventKind.TRANSFERRED),
    ]
    events += [event(at=T0 + m * MINUTE, sender="user") for m in range(1, 20, 3)]
    events += [event(at=T0 + m * MINUTE, sender="agent") for m in range(2, 20, 3)]
    return events


def _gap(idle: Micros) -> tuple[list[ConversationEvent], Micros]:
    events = [
        *chat(start=T0, end=T0 + 20 * MINUTE),
        *chat(start=T0 + 36 * MINUTE, end=T0 + 38 * MINUTE, step=MINUTE),
    ]
    return events, idle


@pytest.mark.parametrize(
    ("events", "idle_timeout", "expected"),
    [
        pytest.param(
            [event(at=T0), event(at=T0 + SECOND // 2, sender="bot")],
            IDLE,
            [1],
            id="user message and bot reply within the same second",
        ),
        pytest.param(chat(start=T0, end=T0 + 14 * MINUTE + 59 * SECOND), IDLE, [1], id="14m59s"),
        pytest.param(chat(start=T0, end=T0 + 15 * MINUTE), IDLE, [1], id="exactly 15m"),
        pytest.param(
            chat(start=T0, end=T0 + 15 * MINUTE + SECOND // 1000), IDLE, [2], id="15m0.001s"
        ),
        pytest.param(chat(start=T0, end=T0 + 30 * MINUTE), IDLE, [2], id="exactly 30m"),
        pytest.param(chat(start=T0, end=T0 + 31 * MINUTE), IDLE, [3], id="31m"),
        pytest.param(_bot_then_agent_then_bot(), IDLE, [2], id="10m bot, 20m agent, 6m bot"),
        pytest.param(_agent_at_once(), IDLE, [0], id="all user messages to the agent"),
        pytest.param(*_gap(15 * MINUTE), [2, 1], id="16m silence splits at idle 15m"),
        pytest.param(*_gap(20 * MINUTE), [3], id="16m silence kept at idle 20m"),
    ],
)
def test_spec_worked_examples(
    events: list[ConversationEvent], idle_timeout: Micros, expected: list[int]
) -> None:
    assert usage_counts(events, idle_timeout=idle_timeout) == expected


def test_agent_interval_is_not_bot_time() -> None:
    [session] = sessionize(_bot_then_agent_then_bot(), idle_timeout=IDLE, now=LATER)
    assert session.bot_time == 16 * MINUTE
    # Block 0 reaches 15 min of bot time 5 min into the second bot stretch.
    assert session.usage_blocks == (
        Block(T0, T0 + 35 * MINUTE),
        Block(T0 + 35 * MINUTE, T0 + 36 * MINUTE),
    )


def test_block_boundary_at_a_bot_stretch_end_skips_the_agent_time() -> None:
    events = [
        *chat(start=T0, end=T0 + 15 * MINUTE),
        *with_agent(start=T0 + 15 * MINUTE, end=T0 + 25 * MINUTE),
        *chat(start=T0 + 25 * MINUTE, end=T0 + 30 * MINUTE),
    ]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert session.usage_blocks == (
        Block(T0, T0 + 15 * MINUTE),
        Block(T0 + 25 * MINUTE, T0 + 30 * MINUTE),
    )


def test_user_message_at_the_transfer_instant_reached_the_bot() -> None:
    events = [event(at=T0), event(at=T0, kind=EventKind.TRANSFERRED)]
    events += [event(at=T0 + m * MINUTE, sender="agent") for m in (1, 2)]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert session.bot_time == 0
    assert session.usage_blocks == (Block(T0, T0),)


def test_agent_time_runs_to_the_session_end_without_a_return() -> None:
    events = [
        *chat(start=T0, end=T0 + 5 * MINUTE),
        event(at=T0 + 5 * MINUTE, kind=EventKind.TRANSFERRED),
    ]
    events += [event(at=T0 + m * MINUTE) for m in (8, 11, 14)]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert (session.start, session.end, session.bot_time) == (T0, T0 + 14 * MINUTE, 5 * MINUTE)


def test_repeated_transfer_or_return_changes_nothing() -> None:
    events = [
        *_bot_then_agent_then_bot(),
        event(at=T0 + 20 * MINUTE, kind=EventKind.TRANSFERRED),
        event(at=T0 + 33 * MINUTE, kind=EventKind.RETURNED),
    ]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert session.bot_time == 16 * MINUTE


# --- requests: user messages to the bot ---------------------------------------------------


def test_requests_count_user_messages_while_the_bot_has_the_conversation() -> None:
    events = [
        event(at=T0, kind=EventKind.STARTED),
        event(at=T0 + MINUTE),
        event(at=T0 + 2 * MINUTE, sender="bot"),
        event(at=T0 + 3 * MINUTE, kind=EventKind.TRANSFERRED),
        event(at=T0 + 3 * MINUTE),  # at the transfer's instant: still the bot's (rank)
        event(at=T0 + 4 * MINUTE),  # to the agent: not a request
        event(at=T0 + 5 * MINUTE, sender="agent"),
        event(at=T0 + 6 * MINUTE, kind=EventKind.RETURNED),
        event(at=T0 + 7 * MINUTE),
    ]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert session.requests == 3


def test_a_conversation_held_by_an_agent_has_no_requests() -> None:
    [session] = sessionize(_agent_at_once(), idle_timeout=IDLE, now=LATER)
    assert session.billable
    assert session.requests == 0


# --- session boundaries and completion ---------------------------------------------------


def test_ended_closes_the_session_and_the_next_event_opens_another() -> None:
    events = [
        *chat(start=T0, end=T0 + 4 * MINUTE),
        event(at=T0 + 4 * MINUTE, kind=EventKind.ENDED),
        event(at=T0 + 4 * MINUTE + SECOND),
    ]
    first, second = sessionize(events, idle_timeout=IDLE, now=T0 + 5 * MINUTE)
    assert first.closed_by_end
    assert first.completed
    assert (first.start, first.end, first.last_event) == (T0, T0 + 4 * MINUTE, T0 + 4 * MINUTE)
    assert not second.closed_by_end
    assert not second.completed


def test_a_later_session_completes_the_earlier_one() -> None:
    events = [event(at=T0), event(at=T0 + IDLE + 1)]
    first, second = sessionize(events, idle_timeout=IDLE, now=T0 + IDLE + 2)
    assert first.completed
    assert not first.closed_by_end
    assert not second.completed


def test_gap_exactly_the_idle_timeout_does_not_split() -> None:
    [session] = sessionize([event(at=T0), event(at=T0 + IDLE)], idle_timeout=IDLE, now=LATER)
    assert (session.start, session.end) == (T0, T0 + IDLE)


@pytest.mark.parametrize(
    ("silence", "completed"),
    [(0, False), (IDLE, False), (IDLE + 1, True)],
    ids=["just now", "exactly idle timeout", "strictly longer"],
)
def test_idle_completion_is_strict(silence: Micros, completed: bool) -> None:
    last = T0 + 9 * MINUTE
    [session] = sessionize(chat(start=T0, end=last), idle_timeout=IDLE, now=last + silence)
    assert session.completed is completed


# --- billability and voice ---------------------------------------------------------------


def test_developer_conversation_is_free() -> None:
    events = [*chat(start=T0, end=T0 + 20 * MINUTE), event(at=T0 + MINUTE, developer=True)]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert not session.billable
    assert session.usage_blocks == ()
    assert session.bot_time == 20 * MINUTE


def test_bot_only_conversation_is_free() -> None:
    events = [event(at=T0 + m * MINUTE, sender="bot") for m in range(0, 12, 3)]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert not session.billable
    assert (session.usage_blocks, session.voice_blocks) == ((), ())


def test_voice_tiles_the_whole_span() -> None:
    events = [
        *chat(start=T0, end=T0 + 31 * MINUTE),
        event(at=T0, kind=EventKind.STARTED, channel="voice"),
    ]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert session.channel == "voice"
    assert session.usage_sessions == 3
    assert session.voice_blocks == (
        Block(T0, T0 + SLOT),
        Block(T0 + SLOT, T0 + 2 * SLOT),
        Block(T0 + 2 * SLOT, T0 + 31 * MINUTE),
    )


def test_voice_counts_agent_time_that_usage_does_not() -> None:
    events = [*_agent_at_once(), event(at=T0 + MINUTE, channel="voice", event_id="voice")]
    [session] = sessionize(events, idle_timeout=IDLE, now=LATER)
    assert session.billable
    assert (session.usage_sessions, session.voice_sessions) == (0, 2)


def test_instant_voice_conversation_is_one_voice_session() -> None:
    [session] = sessionize([event(at=T0, channel="voice")], idle_timeout=IDLE, now=LATER)
    assert session.voice_blocks == (Block(T0, T0),)
    assert session.usage_blocks == (Block(T0, T0),)


def test_chat_has_no_voice_blocks() -> None:
    [session] = sessionize(chat(start=T0, end=T0 + 5 * MINUTE), idle_timeout=IDLE, now=LATER)
    assert (session.channel, session.voice_blocks) == ("chat", ())


def test_first_duplicate_in_walking_order_wins() -> None:
    early = event(at=T0, event_id="m1")
    late_copy = event(at=T0 + 40 * MINUTE, event_id="m1")
    sessions = sessionize([late_copy, early, event(at=T0 + MINUTE)], idle_timeout=IDLE, now=LATER)
    assert [(s.start, s.end) for s in sessions] == [(T0, T0 + MINUTE)]


# --- properties --------------------------------------------------------------------------

_kinds = st.sampled_from(list(EventKind))
_events = st.lists(
    st.builds(
        ConversationEvent,
        time=st.integers(0, 90).map(lambda m: T0 + m * MINUTE),
        kind=_kinds,
        event_id=st.sampled_from([f"e{i}" for i in range(30)]),
        source=st.sampled_from(["a", "b"]),
        sender=st.sampled_from([None, "user", "bot", "agent"]),
        channel=st.sampled_from([None, "chat", "voice"]),
        developer=st.sampled_from([False, False, False, True]),
    ),
    max_size=25,
)
_now = st.integers(0, 200).map(lambda m: T0 + m * MINUTE)


def _run(events: list[ConversationEvent], now: Micros) -> list[ConversationSession]:
    return sessionize(events, idle_timeout=IDLE, now=now)


@given(events=_events, now=_now, data=st.data())
def test_order_does_not_matter(
    events: list[ConversationEvent], now: Micros, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    assert _run(shuffled, now) == _run(events, now)


@given(events=_events, now=_now, data=st.data())
def test_duplicates_do_not_matter(
    events: list[ConversationEvent], now: Micros, data: st.DataObject
) -> None:
    copies = data.draw(st.lists(st.sampled_from(events), max_size=10)) if events else []
    assert _run([*events, *copies], now) == _run(events, now)


@dataclass(frozen=True)
class Stretch:
    """A planned stretch of a conversation: who has it, how long, whether the user writes."""

    agent: bool
    length: Micros
    user_writes: bool


_stretches = st.lists(
    st.builds(
        Stretch,
        agent=st.booleans(),
        length=st.integers(0, 40 * MINUTE) | st.sampled_from([SLOT, 2 * SLOT, SLOT - 1]),
        user_writes=st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


def _play(plan: list[Stretch]) -> tuple[list[ConversationEvent], list[tuple[Micros, Micros]]]:
    """Events acting out ``plan``, and the bot stretches they must produce.

    Consecutive stretches of one owner merge. A stretch that changes hands lasts at least
    1 µs and its user message comes after the hand-over, since a message at the instant
    of a transfer or a return still reaches whoever had the conversation before.
    """
    events = [event(at=T0, kind=EventKind.STARTED, sender=None)]
    bot: list[tuple[Micros, Micros]] = []
    at, with_agent, bot_since = T0, False, T0
    for stretch in plan:
        hand_over = stretch.agent != with_agent
        length = max(stretch.length, 1) if hand_over else stretch.length
        if stretch.agent and not with_agent:
            events.append(event(at=at, kind=EventKind.TRANSFERRED, sender=None))
            bot.append((bot_since, at))
        elif not stretch.agent and with_agent:
            events.append(event(at=at, kind=EventKind.RETURNED, sender=None))
            bot_since = at
        with_agent = stretch.agent
        if stretch.user_writes:
            written = at + max(length // 2, 1 if hand_over else 0)
            events.append(event(at=written, sender="user"))
        at += length
        events.append(event(at=at, sender="agent" if with_agent else "bot"))
    if not with_agent:
        bot.append((bot_since, at))
    return events, bot


def _bot_time_within(block: Block, bot: list[tuple[Micros, Micros]]) -> Micros:
    return sum(max(0, min(end, block.end) - max(start, block.start)) for start, end in bot)


@given(plan=_stretches)
def test_usage_blocks_walk_the_bot_time(plan: list[Stretch]) -> None:
    events, bot = _play(plan)
    [session] = sessionize(events, idle_timeout=DAY, now=LATER)
    bot_time = sum(end - start for start, end in bot)
    assert session.bot_time == bot_time

    to_bot = any(s.user_writes and not s.agent for s in plan)
    expected = max(1, -(-bot_time // SLOT)) if to_bot else 0
    assert session.usage_sessions == expected

    blocks = session.usage_blocks
    starts = [b.start for b in blocks]
    assert starts == sorted(set(starts))
    assert all(session.start <= b.start <= b.end <= session.end for b in blocks)
    if bot_time > 0 and blocks:
        within = [_bot_time_within(b, bot) for b in blocks]
        assert sum(within) == bot_time
        assert all(amount == SLOT for amount in within[:-1])
        # No block starts or ends while a human agent has the conversation.
        assert all(any(s <= b.start < e for s, e in bot) for b in blocks)
        assert all(any(s < b.end <= e for s, e in bot) for b in blocks)


@given(events=_events)
def test_every_block_lies_in_its_session(events: list[ConversationEvent]) -> None:
    for session in _run(events, LATER):
        for block in (*session.usage_blocks, *session.voice_blocks):
            assert session.start <= block.start <= block.end <= session.end
        voice = [b.start for b in session.voice_blocks]
        assert voice == sorted(set(voice))
        if session.billable and session.channel == "voice":
            assert len(voice) == max(1, -(-(session.end - session.start) // SLOT))


@given(events=_events)
def test_requests_are_the_user_messages_that_make_usage(events: list[ConversationEvent]) -> None:
    """A billable session has usage sessions exactly when the bot got a request, and never
    more requests than user messages."""
    for session in _run(events, LATER):
        users = sum(
            1
            for e in {(e.source, e.event_id): e for e in events}.values()
            if e.kind is MESSAGE and e.sender == "user" and session.start <= e.time <= session.end
        )
        assert 0 <= session.requests <= users
        if session.billable:
            assert (session.requests > 0) == (session.usage_sessions > 0)
