"""Ingest: check events against the workspace, store each once, and leave what is new to
metering.

An ingest call is one unit of work: the raw events and the pending rows naming the
conversations and seats they touch are stored together or not at all; the metering drain
(``metering/pending.py``) recomputes those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from botbill.events.records import EventRecord
from botbill.events.service import TimeLimits, check, invalid_batch, store
from botbill.kit.instants import Micros
from botbill.kit.problems import TooManyRequests
from botbill.metering.new_events import record_new
from botbill.metering.pending import backlog

RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True, slots=True)
class IngestCounts:
    accepted: int
    duplicates: int


def ingest(
    session: Session,
    *,
    workspace_id: str,
    events: Sequence[EventRecord],
    now: Micros,
    limits: TimeLimits,
    max_pending: int | None = None,
) -> IngestCounts:
    """Store a batch, all of it or (422) none of it, and leave its metering pending.

    With ``max_pending``: while that many of the workspace's events wait for metering,
    the batch is refused whole (429, nothing stored) and the client sends it again after
    ``Retry-After``; the drain clears such a backlog in a fraction of a second.
    """
    errors = check(session, workspace_id, events, now=now, limits=limits)
    if errors:
        raise invalid_batch(errors)
    if (
        max_pending is not None
        and backlog(session, workspace_id=workspace_id, cap=max_pending) >= max_pending
    ):
        raise TooManyRequests(
            f"{max_pending} or more events of this workspace wait for metering; "
            "send the batch again after Retry-After seconds",
            retry_after=RETRY_AFTER_SECONDS,
        )
    fresh = store(session, workspace_id, events, now=now)
    if fresh:
        record_new(session, workspace_id=workspace_id, fresh=fresh, now=now)
    return IngestCounts(accepted=len(fresh), duplicates=len(events) - len(fresh))
