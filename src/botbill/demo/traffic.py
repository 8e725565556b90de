"""Demo traffic: weeks of realistic CloudEvents for a handful of bots, made up on the spot.

Pure and deterministic: the same apps, ``now``, days, seed and scale give the same events,
byte for byte. Nothing here touches a database, so benchmarks can write the stream to a
file (``write_jsonl``) and the demo can feed it straight into the importer.

Rhythm: conversations arrive by a Poisson process whose rate follows the local hour
(busy 9-18, quiet at night), the weekday (weekends ~40%) and a slow growth over the
period. Human agents work shifts; hand-offs happen only while one is seated.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import orjson

from botbill.demo.conversation import Draft, script
from botbill.kit.instants import DAY, HOUR, MINUTE, SECOND, Micros, from_micros, to_micros
from botbill.kit.timezones import zone

TIMEZONE = "Asia/Kolkata"
DOMAIN = "demo.example"

# Relative arrival rate by local hour: a working-day hump, a long tail into the evening.
HOURLY = (
    0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.40, 0.70, 1.20, 1.70, 1.90, 2.00,
    1.80, 1.70, 1.90, 1.90, 1.80, 1.60, 1.30, 1.00, 0.80, 0.60, 0.40, 0.25,
)  # fmt: skip
HOUR_SHARE = tuple(weight / sum(HOURLY) for weight in HOURLY)
WEEKDAY = (1.0, 1.0, 1.0, 1.0, 1.0, 0.45, 0.35)  # Monday first; weekends ~40%
GROWTH = 0.3  # the last day is this much busier than the first: bots gaining users


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoApp:
    id: str
    name: str
    plan: str
    owner_email: str
    idle_timeout_minutes: int
    conversations_per_day: float  # an average weekday at scale 1
    voice_share: float = 0.0
    developer_share: float = 0.02
    handoff_share: float = 0.0  # of conversations that start while an agent is seated
    agents: tuple[str, ...] = ()
    alert_every_hours: int = 0  # 0: sends no alerts
    alert_recipients: int = 0
    prepaid: int = 0  # funds paid in by wire when the app began (minor units)

    @property
    def has_agents(self) -> bool:
        return bool(self.agents)

    @property
    def has_alerts(self) -> bool:
        return self.alert_every_hours > 0 and self.alert_recipients > 0


def demo_apps() -> list[DemoApp]:
    """Eight bots of one company: support, sales, a voice line, internal tools, a sandbox."""
    owner, admin, dev = f"priya@{DOMAIN}", f"arjun@{DOMAIN}", f"kavya@{DOMAIN}"
    return [
        DemoApp(
            id="support-bot", name="Customer Support", plan="advanced", owner_email=admin,
            idle_timeout_minutes=15, conversations_per_day=55, voice_share=0.05,
            handoff_share=0.12, agents=("agent-asha", "agent-ravi", "agent-meera", "agent-john"),
            prepaid=400_000,
        ),
        DemoApp(
            id="sales-assistant", name="Sales Assistant", plan="essential", owner_email=owner,
            idle_timeout_minutes=30, conversations_per_day=25,
            handoff_share=0.08, agents=("agent-nikhil", "agent-sara"),
            alert_every_hours=8, alert_recipients=15,
            prepaid=200_000,
        ),
        DemoApp(  # voice first; a short timeout, as calls drop rather than pause
            id="voice-concierge", name="Voice Concierge", plan="standard", owner_email=admin,
            idle_timeout_minutes=5, conversations_per_day=20, voice_share=0.9,
            handoff_share=0.1, agents=("agent-asha", "agent-farhan", "agent-lena"),
            prepaid=150_000,
        ),
        DemoApp(
            id="order-tracker", name="Order Tracker", plan="standard", owner_email=dev,
            idle_timeout_minutes=5, conversations_per_day=40,
            alert_every_hours=8, alert_recipients=25,
            prepaid=135_000,
        ),
        DemoApp(  # agent-ravi also works support: two seats (SPEC §2.6)
            id="it-servicedesk", name="IT Service Desk", plan="advanced", owner_email=admin,
            idle_timeout_minutes=15, conversations_per_day=18, voice_share=0.15,
            handoff_share=0.2, agents=("agent-ravi", "agent-tomas", "agent-wei"),
            prepaid=250_000,
        ),
        DemoApp(
            id="hr-helpdesk", name="HR Helpdesk", plan="essential", owner_email=owner,
            idle_timeout_minutes=30, conversations_per_day=12,
            prepaid=50_000,
        ),
        DemoApp(
            id="onboarding-guide", name="Onboarding Guide", plan="trial", owner_email=dev,
            idle_timeout_minutes=15, conversations_per_day=8, voice_share=0.1,
        ),
        DemoApp(  # mostly developers testing: free sessions
            id="dev-sandbox", name="Dev Sandbox", plan="trial", owner_email=dev,
            idle_timeout_minutes=15, conversations_per_day=5, developer_share=0.8,
        ),
    ]  # fmt: skip


def rfc3339(instant: Micros) -> str:
    """``2026-11-26T09:30:00.123Z``: UTC, millisecond precision, as runtimes send it."""
    return from_micros(instant).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate(
    *,
    apps: Sequence[DemoApp],
    now: Micros,
    days: int,
    seed: int = 7,
    scale: float = 1.0,
    timezone: str = TIMEZONE,
) -> Iterator[dict[str, Any]]:
    """CloudEvents of ``days`` days before ``now``, in time order across all apps."""
    start = now - days * DAY
    streams = [
        _app_stream(app, index, start=start, now=now, seed=seed, scale=scale, timezone=timezone)
        for index, app in enumerate(apps)
    ]
    # Each stream is in time order; ties break on (app, sequence), never on the dicts.
    for _time, _app, _seq, event in heapq.merge(*streams):
        yield event


def write_jsonl(events: Iterable[dict[str, Any]], path: Path) -> int:
    """Write one JSON event per line (``botbill import``'s format); returns the count."""
    count = 0
    with path.open("wb") as file:
        for event in events:
            file.write(orjson.dumps(event) + b"\n")
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class _Shift:
    agent_id: str
    start: Micros
    end: Micros


def _app_stream(
    app: DemoApp,
    index: int,
    *,
    start: Micros,
    now: Micros,
    seed: int,
    scale: float,
    timezone: str,
) -> Iterator[tuple[Micros, int, int, dict[str, Any]]]:
    """One app's events in time order, generated hour by hour with bounded memory."""
    # A string seed is hashed deterministically (unlike hash()), one stream per app.
    rng = random.Random(f"{seed}:{app.id}")
    source = f"//runtime.{DOMAIN}/apps/{app.id}"
    tz = zone(timezone)
    days = _local_days(start, now, tz)
    shifts = _shifts(app, rng, days, tz, start)
    pending: list[tuple[Micros, int, str, dict[str, Any]]] = []
    seq = 0

    def push(drafts: Iterable[Draft]) -> None:
        nonlocal seq
        for at, kind, data in drafts:
            if start <= at <= now:
                heapq.heappush(pending, (at, seq, kind, data))
                seq += 1

    push(_seat_events(shifts))
    push(_alerts(app, rng, days, tz, scale))

    conversations = 0
    idle_timeout = app.idle_timeout_minutes * MINUTE
    for hour in range(start - start % HOUR, now, HOUR):
        for at in _arrivals(app, rng, hour, start=start, now=now, scale=scale, tz=tz):
            conversations += 1
            voice = rng.random() < app.voice_share
            on_shift = [s.agent_id for s in shifts if s.start <= at < s.end]
            handoff = bool(on_shift) and rng.random() < app.handoff_share
            push(
                script(
                    rng,
                    conversation_id=f"{app.id}-c{conversations:06d}",
                    start=at,
                    channel="voice" if voice else "chat",
                    developer=rng.random() < app.developer_share,
                    idle_timeout=idle_timeout,
                    agent_id=rng.choice(on_shift) if handoff else None,
                )
            )
        # Later conversations start after this hour, so everything before its end is final.
        while pending and pending[0][0] < hour + HOUR:
            yield _emit(heapq.heappop(pending), app, index, source)
    while pending:
        yield _emit(heapq.heappop(pending), app, index, source)


def _emit(
    item: tuple[Micros, int, str, dict[str, Any]], app: DemoApp, index: int, source: str
) -> tuple[Micros, int, int, dict[str, Any]]:
    at, seq, kind, data = item
    event = {
        "specversion": "1.0",
        "id": f"{app.id}-{seq:07d}",
        "source": source,
        "type": kind,
        "time": rfc3339(at),
        "subject": app.id,
        "data": data,
    }
    return at, index, seq, event


def _arrivals(
    app: DemoApp,
    rng: random.Random,
    hour: Micros,
    *,
    start: Micros,
    now: Micros,
    scale: float,
    tz: tzinfo,
) -> list[Micros]:
    """Conversation start times in the UTC hour beginning at ``hour``, sorted."""
    local = from_micros(hour + HOUR // 2).astimezone(tz)
    progress = (hour - start) / max(now - start, 1)
    rate = (
        app.conversations_per_day
        * scale
        * HOUR_SHARE[local.hour]
        * WEEKDAY[local.weekday()]
        * (1 - GROWTH / 2 + GROWTH * progress)
    )
    times = (hour + rng.randrange(HOUR // 1000) * 1000 for _ in range(_poisson(rng, rate)))
    return sorted(at for at in times if start <= at <= now)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; a normal approximation for large means)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _local_days(start: Micros, now: Micros, tz: tzinfo) -> list[date]:
    first = from_micros(start).astimezone(tz).date()
    last = from_micros(now).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _at(day: date, hour: float, tz: tzinfo) -> Micros:
    """A local wall-clock time on ``day`` as an instant."""
    return to_micros(datetime.combine(day, time(), tzinfo=tz) + timedelta(hours=hour))


def _shifts(
    app: DemoApp, rng: random.Random, days: list[date], tz: tzinfo, start: Micros
) -> list[_Shift]:
    """Agent shifts: weekdays an early (9-17) and a late (13-21) crew, weekends one agent."""
    shifts: list[_Shift] = []
    for n, day in enumerate(days):
        if day.weekday() >= 5:
            crew = [(app.agents[n % len(app.agents)], 10.0, 18.0)] if app.agents else []
        else:
            # Each agent takes a different weekday off, so the crew changes day to day.
            crew = [
                (agent, 9.0 if i % 2 == 0 else 13.0, 17.0 if i % 2 == 0 else 21.0)
                for i, agent in enumerate(app.agents)
                if (day.toordinal() + i) % 5 != 0
            ]
        for agent, begin, end in crew:
            shift = _Shift(
                agent,
                _at(day, begin, tz) + rng.randrange(-10 * MINUTE, 10 * MINUTE, SECOND),
                _at(day, end, tz) + rng.randrange(-10 * MINUTE, 20 * MINUTE, SECOND),
            )
            if shift.start >= start:
                shifts.append(shift)
    return shifts


def _seat_events(shifts: Iterable[_Shift]) -> Iterator[Draft]:
    for shift in shifts:
        yield shift.start, "agent.seat_assigned", {"agent_id": shift.agent_id}
        yield shift.end, "agent.seat_released", {"agent_id": shift.agent_id}


def _alerts(
    app: DemoApp, rng: random.Random, days: list[date], tz: tzinfo, scale: float
) -> Iterator[Draft]:
    """Scheduled broadcasts (local midnight, then every few hours), plus a daily test alert."""
    if not app.has_alerts:
        return
    for day in days:
        for hour in range(0, 24, app.alert_every_hours):
            at = _at(day, hour, tz)
            alert_id = f"{app.id}-{day.isoformat()}-{hour:02d}"
            recipients = max(1, round(app.alert_recipients * scale * rng.uniform(0.85, 1.15)))
            for user in range(recipients):
                at += rng.randrange(50, 400) * 1000  # the sender's pace, per recipient
                yield at, "alert.delivered", {"alert_id": alert_id, "user_id": f"user-{user:05d}"}
        if day.weekday() < 5:  # a developer checks the template before the day's sends
            at = _at(day, 11, tz) + rng.randrange(0, HOUR, SECOND)
            yield at, "alert.delivered", {"alert_id": f"{app.id}-test", "developer": True}
