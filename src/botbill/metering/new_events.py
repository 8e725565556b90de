"""What new events leave to metering: the conversations and seats they touch, and the
alerts they deliver."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from botbill.events.records import EventRecord
from botbill.events.schemas import CONVERSATION_TYPES, SEAT_TYPES
from botbill.kit.instants import Micros
from botbill.metering import pending
from botbill.metering import service as metering
from botbill.metering.pending import Touched


def record_new(
    session: Session, *, workspace_id: str, fresh: Sequence[EventRecord], now: Micros
) -> None:
    """Leave the conversations and seats the new events touch to the metering drain.

    Alerts are counted at once: each is one completed billing session, with no history to
    read, and the rating queue holds it as soon as the call returns.
    """
    conversations, seats, alerts = _touched(fresh)
    in_conversations = Counter(
        (event.app_id, event.conversation_id) for event in fresh if event.type in CONVERSATION_TYPES
    )
    in_seats = Counter(
        (event.app_id, event.agent_id) for event in fresh if event.type in SEAT_TYPES
    )
    pending.record(
        session,
        workspace_id=workspace_id,
        conversations={k: Touched(t, in_conversations[k]) for k, t in conversations.items()},
        seats={k: Touched(t, in_seats[k]) for k, t in seats.items()},
        now=now,
    )
    if alerts:
        metering.add_alerts(session, workspace_id=workspace_id, alerts=alerts)


def meter_new(
    session: Session, *, workspace_id: str, fresh: Iterable[EventRecord], now: Micros
) -> None:
    """Recompute at once what the new events touch: their conversations, seats and alerts
    (``botbill import``, whose batches are large enough to meter in place).

    Each conversation and seat is locked before its history is read, so two concurrent
    writers of one conversation take turns and the second sees the first one's events.
    """
    conversations, seats, alerts = _touched(fresh)
    pending.meter(
        session,
        workspace_id=workspace_id,
        conversations=conversations,
        seats=seats,
        alerts=alerts,
        now=now,
    )


def _touched(
    fresh: Iterable[EventRecord],
) -> tuple[dict[tuple[str, str], Micros], dict[tuple[str, str], Micros], list[tuple[str, Micros]]]:
    """The conversations and seats new events touch (with the latest such event), and
    the delivered alerts that count."""
    conversations: dict[tuple[str, str], Micros] = {}
    seats: dict[tuple[str, str], Micros] = {}
    alerts: list[tuple[str, Micros]] = []
    for event in fresh:
        kind, time = event.type, event.time
        if kind in CONVERSATION_TYPES and event.conversation_id is not None:
            key = (event.app_id, event.conversation_id)
            conversations[key] = max(conversations.get(key, time), time)
        elif kind in SEAT_TYPES and event.agent_id is not None:
            key = (event.app_id, event.agent_id)
            seats[key] = max(seats.get(key, time), time)
        elif kind == "alert.delivered" and not event.developer:
            alerts.append((event.app_id, time))
    return conversations, seats, alerts
