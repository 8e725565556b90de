"""``botbill rollups rebuild``: a workspace's billing sessions, seats and rollups
recomputed from its raw events, and its charges brought in line with them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from botbill.kit.instants import Micros
from botbill.metering import rebuild as metering
from botbill.rating.queue import refund_all


def rebuild(session: Session, *, workspace_id: str, now: Micros) -> int:
    """One transaction: every charge is queued for its refund, then the metering is
    rebuilt, and the rebuilt sessions are charged afresh (the balance ends as if each had
    been rated once). Returns the number of raw events read."""
    refund_all(session, workspace_id=workspace_id)
    return metering.rebuild(session, workspace_id=workspace_id, now=now)
