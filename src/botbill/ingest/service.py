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
from botbill.metering.new_events import record_new


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
) -> IngestCounts:
    """Store a batch, all of it or (422) none of it, and leave its metering pending."""
    errors = check(session, workspace_id, events, now=now, limits=limits)
    if errors:
        raise invalid_batch(errors)
    fresh = store(session, workspace_id, events, now=now)
    if fresh:
        record_new(session, workspace_id=workspace_id, fresh=fresh)
    return IngestCounts(accepted=len(fresh), duplicates=len(events) - len(fresh))
