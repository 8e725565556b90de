"""Conversation sessions, bot time and their billing sessions (SPEC §2.2 to §2.4).

Pure rules on plain values: the caller hands over every event of one conversation and the
current instant, and gets back every conversation session with its usage and voice
blocks. The result depends only on the *set* of events, never on their arrival order or
on how often one was delivered (§2.1), so a recomputation after a late event is exact.

Alert sessions (§2.5) need no rule here: each delivered alert is one billing session whose
block is ``[t, t]`` at the alert's time, completed at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal, NamedTuple

from botbill.kit.instants import SLOT, Micros


class EventKind(StrEnum):
    STARTED = "started"
    MESSAGE = "message"
    TRANSFERRED = "transferred"
    RETURNED = "returned"
    ENDED = "ended"


RANK: Final[Mapping[EventKind, int]] = {
    EventKind.STARTED: 0,
    EventKind.MESSAGE: 1,
    EventKind.TRANSFERRED: 2,
    EventKind.RETURNED: 3,
    EventKind.ENDED: 4,
}
"""Tie-break for events at the same instant: a conversation opens before it talks, and a
message at the instant of a transfer still reached the bot."""


class ConversationEvent(NamedTuple):
    """One stored event of a conversation, as the rules read it (a tuple: histories run
    to tens of thousands of events per drain, and a tuple is the cheapest to build)."""

    time: Micros
    kind: EventKind
    event_id: str
    source: str = ""
    sender: str | None = None
    """``user``, ``bot`` or ``agent``; only messages carry one."""
    channel: str | None = None
    """``chat``, ``voice`` or unknown."""
    developer: bool = False


@dataclass(frozen=True, slots=True)
class Block:
    """The wall-clock extent of one billing session, both ends inclusive."""

    start: Micros
    end: Micros


@dataclass(frozen=True, slots=True)
class ConversationSession:
    start: Micros
    end: Micros
    last_event: Micros
    closed_by_end: bool
    completed: bool
    billable: bool
    channel: Literal["chat", "voice"]
    bot_time: Micros
    requests: int
    """User messages sent while the bot (not a human agent) had the conversation."""
    usage_blocks: tuple[Block, ...]
    """One per usage session; empty when the session is not billable."""
    voice_blocks: tuple[Block, ...]
    """One per voice session; empty for chat and when the session is not billable."""

    @property
    def usage_sessions(self) -> int:
        return len(self.usage_blocks)

    @property
    def voice_sessions(self) -> int:
        return len(self.voice_blocks)


_Interval = tuple[Micros, Micros]


def sessionize(
    events: Iterable[ConversationEvent], *, idle_timeout: Micros, now: Micros
) -> list[ConversationSession]:
    """Every conversation session of one conversation, in time order (SPEC §2.2)."""
    groups: list[list[ConversationEvent]] = []
    previous: ConversationEvent | None = None
    for event in _canonical(events):
        if (
            previous is None
            or previous.kind == EventKind.ENDED
            or event.time - previous.time > idle_timeout
        ):
            groups.append([])
        groups[-1].append(event)
        previous = event
    return [
        _session(group, followed=index < len(groups) - 1, idle_timeout=idle_timeout, now=now)
        for index, group in enumerate(groups)
    ]


def _canonical(events: Iterable[ConversationEvent]) -> list[ConversationEvent]:
    """The events in walking order, each identity once: the first in that order wins.

    The key runs past ``(time, rank, id, source)`` so that two deliveries of one identity
    with different bodies still sort the same way whatever order they arrived in.
    """
    ordered = sorted(
        events,
        key=lambda e: (
            e.time,
            RANK[e.kind],
            e.event_id,
            e.source,
            e.sender is not None,
            e.sender or "",
            e.channel is not None,
            e.channel or "",
            e.developer,
        ),
    )
    seen: set[tuple[str, str]] = set()
    unique: list[ConversationEvent] = []
    for event in ordered:
        identity = (event.source, event.event_id)
        if identity not in seen:
            seen.add(identity)
            unique.append(event)
    return unique


def _session(
    events: Sequence[ConversationEvent], *, followed: bool, idle_timeout: Micros, now: Micros
) -> ConversationSession:
    start, end = events[0].time, events[-1].time
    closed_by_end = events[-1].kind == EventKind.ENDED
    user_wrote = any(e.kind == EventKind.MESSAGE and e.sender == "user" for e in events)
    billable = user_wrote and not any(e.developer for e in events)
    voice = any(e.channel == "voice" for e in events)
    bot_intervals, requests = _bot_intervals(events)
    user_wrote_to_bot = requests > 0
    bot_time = sum(interval_end - interval_start for interval_start, interval_end in bot_intervals)
    return ConversationSession(
        start=start,
        end=end,
        last_event=end,
        closed_by_end=closed_by_end,
        completed=closed_by_end or followed or now - end > idle_timeout,
        billable=billable,
        channel="voice" if voice else "chat",
        bot_time=bot_time,
        requests=requests,
        usage_blocks=(
            _usage_blocks(bot_intervals, bot_time) if billable and user_wrote_to_bot else ()
        ),
        voice_blocks=_voice_blocks(start, end) if billable and voice else (),
    )


def _bot_intervals(events: Sequence[ConversationEvent]) -> tuple[list[_Interval], int]:
    """The stretches the bot had the conversation, and how many user messages it got then.

    Zero-length stretches are kept (a transfer at the session's first instant) so that a
    user message sent to the bot at that instant still has a place on the wall clock.
    """
    intervals: list[_Interval] = []
    with_agent = False
    bot_since = events[0].time
    requests = 0
    for event in events:
        if event.kind == EventKind.TRANSFERRED and not with_agent:
            intervals.append((bot_since, event.time))
            with_agent = True
        elif event.kind == EventKind.RETURNED and with_agent:
            bot_since = event.time
            with_agent = False
        elif event.kind == EventKind.MESSAGE and event.sender == "user" and not with_agent:
            requests += 1
    if not with_agent:
        intervals.append((bot_since, events[-1].time))
    return intervals, requests


def _usage_blocks(bot_intervals: Sequence[_Interval], bot_time: Micros) -> tuple[Block, ...]:
    """Usage session k covers accumulated bot time ``k*15min .. min((k+1)*15min, bot_time)``.

    A user who wrote to the bot is served at least one usage session even when the bot
    never held the conversation for a measurable time; it sits at the first bot stretch.
    """
    if bot_time == 0:
        first = bot_intervals[0][0]
        return (Block(first, first),)
    count = -(-bot_time // SLOT)
    return tuple(
        Block(
            start=_instant_at(bot_intervals, k * SLOT, opening=True),
            end=_instant_at(bot_intervals, min((k + 1) * SLOT, bot_time), opening=False),
        )
        for k in range(count)
    )


def _instant_at(bot_intervals: Sequence[_Interval], amount: Micros, *, opening: bool) -> Micros:
    """The wall-clock instant where the accumulated bot time reaches ``amount``.

    When ``amount`` is reached exactly at the end of a bot stretch, the instant is
    ambiguous: anywhere in the following human-agent time the bot total is the same. The
    block that closes there ends at that stretch's end (``opening=False``), and the block
    that opens there starts at the next bot stretch's start (``opening=True``), so no
    usage session starts or ends while a human agent has the conversation.
    """
    accumulated = 0
    for start, end in bot_intervals:
        length = end - start
        reached = amount < accumulated + length if opening else amount <= accumulated + length
        if reached and (opening or amount > accumulated):
            return start + (amount - accumulated)
        accumulated += length
    raise ValueError(f"bot time {accumulated} never reaches {amount}")


def _voice_blocks(start: Micros, end: Micros) -> tuple[Block, ...]:
    """Voice sessions tile the whole span, human-agent time included (SPEC §2.4)."""
    count = max(1, -(-(end - start) // SLOT))
    return tuple(Block(start + k * SLOT, min(start + (k + 1) * SLOT, end)) for k in range(count))
