"""The compatibility API's reads and jobs: billing sessions in the platform's shape, and
usage summaries from the rollups (a 90-day summary never reads raw events)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from botbill.compat.errors import PlatformError
from botbill.compat.formats import iso_millis, platform_datetime
from botbill.compat.models import SummaryJob
from botbill.compat.queries import SessionsQuery, SummaryQuery
from botbill.compat.summary import ALL_BOTS, Row, month_of, summary_response
from botbill.events.models import Event
from botbill.kit.batching import chunked
from botbill.kit.db import among, table_of
from botbill.kit.instants import DAY, HOUR, SECOND, SLOT, Micros
from botbill.metering.models import BillingSession, UsageRollup, WorkspaceUsageRollup
from botbill.workspaces.models import App

SESSION_TYPES = {"usage": "Conversations", "alert": "Alerts", "voice": "Voice"}
ROLLUP_COUNTERS = {
    "sessions": "usage_sessions",
    "alert_notifications": "alert_sessions",
    "conversations": "conversations",
    "requests": "requests",
}
"""Summary counters and the rollup columns they sum (no proactive notifications yet)."""

_b = table_of(BillingSession).c


def check_bots(session: Session, *, workspace_id: str, bot_ids: Iterable[str]) -> None:
    """404 unless every bot is an app of the workspace (another's is unknown here)."""
    wanted = {bot for bot in bot_ids if "\x00" not in bot}
    found = set(
        session.scalars(select(App.id).where(App.workspace_id == workspace_id, App.id.in_(wanted)))
        if wanted
        else ()
    )
    for bot in sorted(set(bot_ids)):
        if bot not in found:
            raise PlatformError(404, f"no bot {bot!r} in this account")


# --- billing sessions ------------------------------------------------------------------


def billing_sessions(
    session: Session, *, workspace_id: str, bot_id: str | None, query: SessionsQuery
) -> dict[str, Any]:
    """``{"total", "moreAvailable", "sessions"}``: completed billing sessions starting in
    the range, ordered by start (the same ones ``GET /v1/billing-sessions`` lists)."""
    scope: list[ColumnElement[bool]] = [
        _b.workspace_id == workspace_id,
        _b.completed.is_(True),
        _b.start >= query.span.start,
        _b.start < query.span.end,
    ]
    if bot_id is not None:
        scope.append(_b.app_id == bot_id)
    if query.channel is not None:
        scope.append(_b.channel == query.channel)
    total = session.scalar(select(func.count()).select_from(table_of(BillingSession)).where(*scope))
    rows = list(
        session.scalars(
            select(BillingSession)
            .where(*scope)
            .order_by(_b.start, _b.id)
            .offset(query.skip)
            .limit(query.limit)
        )
    )
    users = _conversation_users(
        session,
        workspace_id=workspace_id,
        keys={(row.app_id, row.conversation_id) for row in rows if row.conversation_id},
    )
    return {
        "total": total or 0,
        "moreAvailable": query.skip + len(rows) < (total or 0),
        "sessions": [_session_out(row, users) for row in rows],
    }


def conversation_session_id(app_id: str, conversation_id: str, start: Micros) -> str:
    """A stable id for a conversation session: the same whenever it is recomputed."""
    digest = hashlib.sha256(f"{app_id}\x00{conversation_id}\x00{start}".encode())
    return digest.hexdigest()[:24]


def _session_out(
    row: BillingSession, users: Mapping[tuple[str, str], tuple[str | None, str | None]]
) -> dict[str, Any]:
    conversation = row.conversation_id
    start = row.conversation_session_start
    end = row.conversation_session_end
    kore_user, channel_user = (
        users.get((row.app_id, conversation), (None, None)) if conversation else (None, None)
    )
    return {
        "botId": row.app_id,
        "channel": row.channel,
        "koreUserId": kore_user,
        "channelUserId": channel_user,
        "billingSessionType": SESSION_TYPES[row.type],
        "conversationSessionId": (
            conversation_session_id(row.app_id, conversation, start)
            if conversation is not None and start is not None
            else None
        ),
        "conversationSessionStartDateTime": None if start is None else platform_datetime(start),
        "conversationSessionEndDateTime": None if end is None else platform_datetime(end),
        "billingSessionId": f"bs_{row.id}",
        "billingSessionStartDateTime": platform_datetime(row.start),
        "billingSessionEndDateTime": platform_datetime(row.end),
    }


def _conversation_users(
    session: Session, *, workspace_id: str, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Who each conversation is with: the ``user_id`` and ``channel_user_id`` of its
    earliest ``conversation.started`` event that names them (each field on its own)."""
    e = table_of(Event).c
    found: dict[tuple[str, str], list[Any]] = {}
    for names in chunked(sorted({name for _, name in keys}), 500):
        query = (
            select(e.app_id, e.conversation_id, e.data)
            .where(
                e.workspace_id == workspace_id,
                among(session, e.conversation_id, names),
                e.type == "conversation.started",
            )
            .order_by(e.time, e.event_id, e.source)
        )
        for app_id, conversation_id, data in session.execute(query):
            key = (app_id, conversation_id)
            if key not in keys:
                continue
            fields = orjson.loads(data) if isinstance(data, str | bytes) else data
            users = found.setdefault(key, [None, None])
            for index, name in enumerate(("user_id", "channel_user_id")):
                value = fields.get(name) if isinstance(fields, dict) else None
                if users[index] is None and isinstance(value, str):
                    users[index] = value
    return {key: (users[0], users[1]) for key, users in found.items()}


# --- usage summaries -------------------------------------------------------------------


def create_job(
    session: Session,
    *,
    workspace_id: str,
    client_id: str,
    bot_id: str | None,
    query: SummaryQuery,
    now: Micros,
) -> dict[str, Any]:
    """Record a summary request; answers the platform's job record. The result is read
    when asked for (the job is complete at once), so it is as of that moment."""
    job = SummaryJob(
        public_id=f"ds-{uuid.uuid4()}",
        workspace_id=workspace_id,
        client_id=client_id,
        bot_id=bot_id or "",
        created_at=now,
        query=query.as_json(),
    )
    session.add(job)
    session.flush()
    return {
        "reportId": str(job.id),
        "status": "IN_PROGRESS",
        "percentageComplete": 0,
        "orgId": workspace_id,
        "createdBy": client_id,
        "jobType": "BILLINGSESSIONS_API",
        "action": "QUERY",
        "statusLogs": [],
        "_id": job.public_id,
        "lMod": iso_millis(now - now % SECOND),
        "createdOn": iso_millis(now),
        "__v": 0,
    }


def latest_job(session: Session, *, client_id: str, bot_id: str | None) -> SummaryJob:
    """The caller's latest summary request at this address (the status GET names none)."""
    j = table_of(SummaryJob).c
    job = session.scalars(
        select(SummaryJob)
        .where(j.client_id == client_id, j.bot_id == (bot_id or ""))
        .order_by(j.id.desc())
        .limit(1)
    ).first()
    if job is None:
        raise PlatformError(404, "no billing session summary was requested yet")
    return job


def job_result(session: Session, *, job: SummaryJob, now: Micros) -> dict[str, Any]:
    query = SummaryQuery.from_json(job.query)
    bots: Sequence[str] | None = (job.bot_id,) if job.bot_id else query.stream_ids or None
    rows = _summary_rows(
        session, workspace_id=job.workspace_id, bots=bots, grouped=query.group_by_bot, query=query
    )
    return {
        "_id": job.public_id,
        "status": "success",
        "__v": 0,
        "lastModifiedBy": job.client_id,
        "modifiedOn": iso_millis(now),
        "response": summary_response(rows, units=query.units, grouped=query.group_by_bot),
    }


def _summary_rows(
    session: Session,
    *,
    workspace_id: str,
    bots: Sequence[str] | None,
    grouped: bool,
    query: SummaryQuery,
) -> list[Row]:
    """Rollup sums per bot (or ``ALL``) and hour or day, summed by the database: at most
    one row per bot and period comes back. Months are days folded here."""
    per_app = grouped or bots is not None
    r = table_of(UsageRollup if per_app else WorkspaceUsageRollup).c
    width = (HOUR if query.period == "date_day_hour" else DAY) // SLOT
    period = (r.slot - r.slot % width).label("period")
    columns = [func.sum(r[column]) for column in ROLLUP_COUNTERS.values()]
    keys: list[Any] = [r.app_id, period] if grouped else [period]
    statement = (
        select(*keys, *columns)
        .where(
            r.workspace_id == workspace_id,
            r.slot >= query.span.start // SLOT,
            r.slot < -(-query.span.end // SLOT),
        )
        .group_by(*keys)
    )
    if bots is not None:
        statement = statement.where(among(session, r.app_id, list(bots)))
    rows: list[Row] = []
    for row in session.execute(statement):
        bot = row[0] if grouped else ALL_BOTS
        start = int(row[1 if grouped else 0]) * SLOT
        sums = row[2 if grouped else 1 :]
        if query.period == "date_month":
            start = month_of(start)
        rows.append((bot, start, dict(zip(ROLLUP_COUNTERS, map(int, sums), strict=True))))
    return rows
