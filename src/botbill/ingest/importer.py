"""``botbill import``: backfills from JSON lines, streamed in batches with bounded memory.

Unlike the HTTP batch, an import keeps going past bad lines: each is reported with its
line number and the rest is stored. Every batch is its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import orjson
from pydantic import ValidationError
from sqlalchemy import Engine, text

from botbill.events.records import EventRecord, model_record, plain_record
from botbill.events.schemas import event_adapter
from botbill.events.service import TimeLimits, check, store
from botbill.kit.clock import Clock
from botbill.kit.db import unit_of_work
from botbill.metering.new_events import meter_new
from botbill.workspaces.service import get_workspace

BATCH_LINES = 25_000
ANALYZE_EVERY = 50_000
"""On PostgreSQL, statistics are refreshed after this many stored events, then each time
the stored events have doubled (so the cost stays a small share of the import)."""
ANALYZED_TABLES = ("events", "conversations", "billing_sessions", "seat_intervals", "agent_seats")


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str


@dataclass(slots=True)
class ImportSummary:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def import_lines(
    engine: Engine,
    clock: Clock,
    *,
    workspace_id: str,
    lines: Iterable[bytes],
    limits: TimeLimits,
    on_batch: Callable[[int], None] = lambda _bytes: None,
) -> ImportSummary:
    with unit_of_work(engine, write=False) as session:
        get_workspace(session, workspace_id)
    summary = ImportSummary()
    stored_since_analyze, analyzed_at = 0, 0
    for batch in _batches(lines):
        events: list[EventRecord] = []
        numbers: list[int] = []
        size = 0
        for number, line in batch:
            size += len(line)
            try:
                events.append(_read(line))
                numbers.append(number)
            except ValidationError as error:
                summary.rejected.append(Rejection(number, _describe(error)))
        if events:
            before = summary.accepted
            _import_batch(engine, clock, workspace_id, events, numbers, limits, summary)
            stored_since_analyze += summary.accepted - before
        if engine.dialect.name == "postgresql" and stored_since_analyze > max(
            ANALYZE_EVERY, analyzed_at
        ):
            # A bulk load outruns autovacuum: without fresh statistics PostgreSQL keeps
            # planning for the empty tables it last measured, and lookups turn to scans.
            _analyze(engine)
            analyzed_at += stored_since_analyze
            stored_since_analyze = 0
        on_batch(size)
    summary.rejected.sort(key=lambda rejection: rejection.line)
    return summary


def _read(line: bytes) -> EventRecord:
    """One line's event; a ValidationError says why it is not one."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        raw = None  # the models word the JSON error
    record = plain_record(raw)
    if record is None:
        record = model_record(event_adapter.validate_json(line), raw)
    return record


def _import_batch(
    engine: Engine,
    clock: Clock,
    workspace_id: str,
    events: list[EventRecord],
    numbers: list[int],
    limits: TimeLimits,
    summary: ImportSummary,
) -> None:
    now = clock.now()
    with unit_of_work(engine, write=True) as session:
        errors = check(session, workspace_id, events, now=now, limits=limits)
        bad: dict[int, str] = {}
        for error in errors:
            index = int(error.loc[1])
            bad.setdefault(index, f"{error.loc[2]}: {error.msg}")
        for index, reason in bad.items():
            summary.rejected.append(Rejection(numbers[index], reason))
        good = [event for index, event in enumerate(events) if index not in bad]
        fresh = store(session, workspace_id, good, now=now)
        if fresh:
            meter_new(session, workspace_id=workspace_id, fresh=fresh, now=now)
    summary.accepted += len(fresh)
    summary.duplicates += len(good) - len(fresh)


def _analyze(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("ANALYZE " + ", ".join(ANALYZED_TABLES)))
        connection.commit()


def _batches(lines: Iterable[bytes]) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        batch.append((number, line))
        if len(batch) >= BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    loc = ".".join(
        str(part)
        for part in first["loc"]
        if not str(part).startswith(("conversation.", "agent.", "alert."))
    )
    if first["type"] == "union_tag_invalid":
        return f"type: unknown event type {first.get('ctx', {}).get('tag')!r}"
    return f"{loc}: {first['msg']}" if loc else str(first["msg"])
