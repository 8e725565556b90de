"""One demo conversation as the bot runtime would report it: a script of timed events.

The shapes mirror what a metering engine has to get right (SPEC §2.2-2.4): exchanges from
seconds to ~50 minutes, hand-offs to a human agent and back, bot greetings nobody answers,
pauses shorter and silences longer than the app's idle timeout, explicit and silent ends.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from botbill.kit.instants import MINUTE, SECOND, Micros

Draft = tuple[Micros, str, dict[str, Any]]
"""An event before it gets an id: (time, CloudEvents type, data)."""

Responder = Literal["bot", "agent"]

# Shares of conversations (of those that could take the shape).
BOT_ONLY = 0.06  # the bot greets, the user never answers: free (SPEC §2.2)
INSTANT_HANDOFF = 0.15  # of hand-offs: straight to an agent, the bot never answers
AGENT_CLOSES = 0.3  # of hand-offs: the agent ends it instead of returning it to the bot
PAUSE = 0.08  # the user steps away for less than the idle timeout: one session
LONG_SILENCE = 0.05  # the user comes back after the idle timeout: an idle split
EXPLICIT_END = 0.65  # the runtime sends `ended`; the rest just stop (idle completion)
LONGEST: Micros = 50 * MINUTE


def _ms(rng: random.Random, low: float, high: float) -> Micros:
    """A delay between ``low`` and ``high`` seconds, at millisecond precision."""
    return round(rng.uniform(low, high) * 1000) * 1000


@dataclass(slots=True)
class _Script:
    conversation_id: str
    channel: str
    developer: bool
    drafts: list[Draft] = field(default_factory=list)

    def add(self, time: Micros, kind: str, **extra: Any) -> None:
        data: dict[str, Any] = {"conversation_id": self.conversation_id, **extra}
        # Real runtimes tag every event of a test conversation, and voice on every turn.
        if self.developer:
            data["developer"] = True
        if kind == "conversation.started" or (
            self.channel == "voice" and kind == "conversation.message"
        ):
            data["channel"] = self.channel
        self.drafts.append((time, kind, data))

    def exchange(
        self, rng: random.Random, time: Micros, until: Micros, responder: Responder
    ) -> Micros:
        """User turns, each answered, until ``until``; returns the time of the last reply."""
        voice = self.channel == "voice"
        while time < until:
            time += _ms(rng, 3, 15) if voice else _ms(rng, 4, 90)
            self.add(time, "conversation.message", sender="user")
            if responder == "agent":
                time += _ms(rng, 8, 60)
            else:
                time += _ms(rng, 0.3, 1.5) if voice else _ms(rng, 0.4, 3)
            self.add(time, "conversation.message", sender=responder)
        return time


def _length(rng: random.Random, voice: bool) -> Micros:
    """How long the user keeps talking to the bot: log-normal, seconds to ~50 minutes."""
    median, spread = (120.0, 0.8) if voice else (150.0, 1.0)
    seconds = rng.lognormvariate(math.log(median), spread)
    return min(max(round(seconds * SECOND), 5 * SECOND), LONGEST)


def script(
    rng: random.Random,
    *,
    conversation_id: str,
    start: Micros,
    channel: str,
    developer: bool,
    idle_timeout: Micros,
    agent_id: str | None,
) -> list[Draft]:
    """The events of one conversation starting at ``start``, in time order.

    ``agent_id`` is the human agent it is handed to, or None when it stays with the bot.
    """
    s = _Script(conversation_id, channel, developer)
    s.add(start, "conversation.started")
    time = start + _ms(rng, 0.3, 2)
    s.add(time, "conversation.message", sender="bot")
    if rng.random() < BOT_ONLY:
        if rng.random() < 0.5:  # a nudge, also unanswered
            s.add(time + _ms(rng, 20, 90), "conversation.message", sender="bot")
        return s.drafts
    length = _length(rng, channel == "voice")
    if agent_id is None:
        time = s.exchange(rng, time, time + length, "bot")
    else:
        bot_part = 0.0 if rng.random() < INSTANT_HANDOFF else rng.uniform(0.15, 0.5)
        time = s.exchange(rng, time, time + round(bot_part * length), "bot")
        time += _ms(rng, 0.5, 3)
        s.add(time, "conversation.transferred", agent_id=agent_id)
        time = s.exchange(rng, time, time + _ms(rng, 120, 1200), "agent")
        if rng.random() < AGENT_CLOSES:
            s.add(time + _ms(rng, 2, 30), "conversation.ended")
            return s.drafts
        time += _ms(rng, 1, 10)
        s.add(time, "conversation.returned")
        time = s.exchange(rng, time, time + _ms(rng, 20, 240), "bot")
    roll = rng.random()
    if roll < PAUSE:
        # Short of the timeout even after the user's longest think time (90 s).
        time += round(rng.uniform(0.3, 0.9) * (idle_timeout - 90 * SECOND))
        time = s.exchange(rng, time, time + _ms(rng, 20, 180), "bot")
    elif roll < PAUSE + LONG_SILENCE:
        time += idle_timeout + _ms(rng, 60, 2400)
        time = s.exchange(rng, time, time + _ms(rng, 20, 300), "bot")
    if rng.random() < EXPLICIT_END:
        s.add(time + _ms(rng, 2, 20), "conversation.ended")
    return s.drafts
