"""Exactness: the server's counts and balances against the rules applied to the events it
acknowledged.

The expected side uses only the project's pure rules (``sessionize``, ``seat_intervals``,
``overlaps``) on the acknowledged events, deduplicated by ``(source, id)``: no database,
no server code. Every difference is reported, per app and in total.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.soak_traffic import ALERT_PRICE, SEAT_DAY_PRICE, USAGE_PRICE, VOICE_PRICE, iso
from botbill.kit.instants import DAY, MINUTE, Micros, to_micros
from botbill.metering.conversations import ConversationEvent, EventKind, sessionize
from botbill.metering.seats import (
    SeatEvent,
    SeatEventKind,
    SeatInterval,
    overlaps,
    seat_intervals,
)

CONVERSATION_KINDS = {
    "conversation.started": EventKind.STARTED,
    "conversation.message": EventKind.MESSAGE,
    "conversation.transferred": EventKind.TRANSFERRED,
    "conversation.returned": EventKind.RETURNED,
    "conversation.ended": EventKind.ENDED,
}
SEAT_KINDS = {
    "agent.seat_assigned": SeatEventKind.ASSIGNED,
    "agent.seat_released": SeatEventKind.RELEASED,
}
COUNTS = ("usage_sessions", "alert_sessions", "voice_sessions", "billing_sessions", "agents")


@dataclass
class AppCounts:
    usage_sessions: int = 0
    alert_sessions: int = 0
    voice_sessions: int = 0
    agents: int = 0
    """Distinct seats held at some instant of the window."""
    seat_days: int = 0
    """Seats held on each ended UTC day (the workspace's timezone is UTC)."""
    open_sessions: int = 0
    """Conversation sessions not completed yet: none, by the traffic's design."""

    @property
    def billing_sessions(self) -> int:
        return self.usage_sessions + self.alert_sessions

    @property
    def charges(self) -> int:
        """What the standard plan charges for these counts."""
        return (
            USAGE_PRICE * self.usage_sessions
            + ALERT_PRICE * self.alert_sessions
            + VOICE_PRICE * self.voice_sessions
            + SEAT_DAY_PRICE * self.seat_days
        )

    def as_json(self) -> dict[str, int]:
        return asdict(self) | {"billing_sessions": self.billing_sessions}


def acknowledged_events(work: Path) -> Iterator[Any]:
    """Every event of every batch a client was answered 200 for."""
    for path in sorted(work.glob("acked-*.jsonl")):
        with path.open("rb") as lines:
            for line in lines:
                yield from orjson.loads(line)


def _time(event: Any) -> Micros:
    return to_micros(datetime.fromisoformat(event["time"]).astimezone(UTC))


def expected_counts(
    events: Iterable[Any],
    idle_timeout_minutes: Mapping[str, int],
    *,
    now: Micros,
    window: tuple[Micros, Micros],
) -> dict[str, AppCounts]:
    """Per app, the counts the rules give for these events at ``now``."""
    unique: dict[tuple[str, str], Any] = {}
    for e in events:
        unique.setdefault((e["source"], e["id"]), e)
    counts = {app: AppCounts() for app in idle_timeout_minutes}
    conversations: dict[tuple[str, str], list[ConversationEvent]] = defaultdict(list)
    seats: dict[tuple[str, str], list[SeatEvent]] = defaultdict(list)
    for e in unique.values():
        data, app = e["data"], e["subject"]
        if e["type"] in CONVERSATION_KINDS:
            conversations[(app, data["conversation_id"])].append(
                ConversationEvent(
                    time=_time(e),
                    kind=CONVERSATION_KINDS[e["type"]],
                    event_id=e["id"],
                    source=e["source"],
                    sender=data.get("sender"),
                    channel=data.get("channel"),
                    developer=data.get("developer", False),
                )
            )
        elif e["type"] in SEAT_KINDS:
            seats[(app, data["agent_id"])].append(
                SeatEvent(_time(e), SEAT_KINDS[e["type"]], e["id"], e["source"])
            )
        elif e["type"] == "alert.delivered" and not data.get("developer", False):
            counts[app].alert_sessions += 1
    for (app, _), history in conversations.items():
        timeout = idle_timeout_minutes[app] * MINUTE
        for session in sessionize(history, idle_timeout=timeout, now=now):
            if not session.completed:
                counts[app].open_sessions += 1
                continue
            counts[app].usage_sessions += session.usage_sessions
            counts[app].voice_sessions += session.voice_sessions
    for (app, _), seat_history in seats.items():
        intervals = seat_intervals(seat_history)
        if any(overlaps(interval, *window, now=now) for interval in intervals):
            counts[app].agents += 1
        counts[app].seat_days += ended_days_held(intervals, now=now)
    return counts


def ended_days_held(intervals: list[SeatInterval], *, now: Micros) -> int:
    """The ended UTC days on which the seat was held at some instant."""
    if not intervals:
        return 0
    first, today = intervals[0].start // DAY * DAY, now // DAY * DAY
    return sum(
        1
        for day in range(first, today, DAY)
        if any(overlaps(interval, day, day + DAY, now=now) for interval in intervals)
    )


# --- the server's side -------------------------------------------------------------------


def window_for(now: Micros) -> tuple[Micros, Micros]:
    """Three UTC days back to the end of today: every event the soak sends falls in it."""
    today = now // DAY * DAY
    return today - 3 * DAY, today + DAY


def usage_query(window: tuple[Micros, Micros], app: str | None = None) -> dict[str, str]:
    params = {
        "range": "custom",
        "from": iso(window[0])[:10],
        "to": iso(window[1] - DAY)[:10],
        "granularity": "day",
    }
    return params | ({"app_id": app} if app else {})


def snapshot(http: httpx.Client, window: tuple[Micros, Micros]) -> tuple[Any, ...]:
    """The all-apps usage totals and every app's balance: stable once the jobs caught up."""
    totals = http.get("/v1/usage", params=usage_query(window)).raise_for_status().json()
    plans = http.get("/v1/subscriptions", params={"limit": 100}).raise_for_status().json()
    balances = sorted((item["app_id"], item["balance"]["amount"]) for item in plans["items"])
    return (tuple(sorted(totals["totals"].items())), tuple(balances))


def settle(http: httpx.Client, window: tuple[Micros, Micros], *, limit: float = 180) -> float:
    """Wait until two snapshots 5 s apart agree; returns the seconds it took."""
    started = time.monotonic()
    previous = snapshot(http, window)
    while time.monotonic() - started < limit:
        time.sleep(5)
        current = snapshot(http, window)
        if current == previous:
            break
        previous = current
    return time.monotonic() - started


def billing_session_tally(
    http: httpx.Client, window: tuple[Micros, Micros]
) -> dict[tuple[str, str], int]:
    """The billing-session list, every page, counted per (app, type)."""
    tally: dict[tuple[str, str], int] = defaultdict(int)
    params = {"from": iso(window[0]), "to": iso(window[1]), "limit": "1000"}
    while True:
        page = http.get("/v1/billing-sessions", params=params).raise_for_status().json()
        for item in page["items"]:
            tally[(item["app_id"], item["type"])] += 1
        if not page["next_cursor"]:
            return tally
        params["cursor"] = page["next_cursor"]


def compare(
    http: httpx.Client,
    expected: Mapping[str, AppCounts],
    funds: Mapping[str, int],
    window: tuple[Micros, Micros],
) -> tuple[list[str], dict[str, Any]]:
    """Every difference between the server and ``expected``, and both sides' figures."""
    mismatches: list[str] = []
    server: dict[str, Any] = {}

    def check(what: str, got: Any, want: Any) -> None:
        if got != want:
            mismatches.append(f"{what}: server {got}, expected {want}")

    listed = billing_session_tally(http, window)
    for app, want in expected.items():
        if want.open_sessions:
            mismatches.append(f"{app}: {want.open_sessions} sessions still open at the check")
        totals = http.get("/v1/usage", params=usage_query(window, app)).raise_for_status().json()
        detail = http.get(f"/v1/apps/{app}/subscription").raise_for_status().json()
        balance = detail["balance"]["amount"]
        server[app] = totals["totals"] | {"balance": balance}
        for name in COUNTS:
            check(f"{app} usage {name}", totals["totals"][name], getattr(want, name))
        for kind in ("usage", "alert", "voice"):
            check(
                f"{app} billing-session list, {kind}",
                listed.get((app, kind), 0),
                getattr(want, f"{kind}_sessions"),
            )
        check(f"{app} balance", balance, funds[app] - want.charges)
    everything = http.get("/v1/usage", params=usage_query(window)).raise_for_status().json()
    server["all apps"] = everything["totals"]
    for name in COUNTS:
        want_total = sum(getattr(counts, name) for counts in expected.values())
        check(f"all apps usage {name}", everything["totals"][name], want_total)
    check(
        "billing-session list, all",
        sum(listed.values()),
        sum(c.billing_sessions + c.voice_sessions for c in expected.values()),
    )
    return mismatches, server
