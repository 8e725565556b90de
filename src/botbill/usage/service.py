"""Usage series and billing-session lists, read from rollups and derived state only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    Engine,
    Select,
    String,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from botbill.kit.clock import Clock
from botbill.kit.db import table_of, unit_of_work
from botbill.kit.instants import SLOT, Micros, from_micros
from botbill.kit.problems import NotFound
from botbill.kit.slot_buckets import bucket_index, bucket_params
from botbill.metering import pending
from botbill.metering.jobs import run_completion
from botbill.metering.models import (
    AgentSeat,
    BillingSession,
    Conversation,
    PendingMetering,
    SeatInterval,
    UsageRollup,
    WorkspaceUsageRollup,
)
from botbill.metering.seat_presence import agents_by_bucket
from botbill.usage.buckets import Window, local_iso
from botbill.usage.schemas import BillingSessionOut, UsageCounts, UsagePoint, UsageReport
from botbill.workspaces.models import App, Workspace


@contextmanager
def settled_read(
    engine: Engine, clock: Clock, *, workspace_id: str, app_id: str | None = None
) -> Iterator[tuple[Session, str]]:
    """A read transaction that reflects every event ingested before it began, with the
    workspace's timezone; 404 when ``app_id`` is not one of the workspace's apps.

    The jobs meter pending events and complete idle sessions every few seconds; a read
    that finds either waiting for its workspace does that work first, so its answer is
    exact at its ``now``. In the usual case there is none, and the check, the lookups
    and the read share one transaction, the first two in one statement.
    """
    with unit_of_work(engine, write=False) as session:
        now = clock.now()
        timezone, unsettled = _scope(session, workspace_id=workspace_id, app_id=app_id, now=now)
        if not unsettled:
            yield session, timezone
            return
    pending.settle(engine, clock, workspace_id=workspace_id)
    run_completion(engine, clock, workspace_id=workspace_id)
    with unit_of_work(engine, write=False) as session:
        timezone, _ = _scope(session, workspace_id=workspace_id, app_id=app_id, now=clock.now())
        yield session, timezone


def _scope(
    session: Session, *, workspace_id: str, app_id: str | None, now: Micros
) -> tuple[str, bool]:
    """The workspace's timezone, and whether it has metering pending or sessions due;
    404 for an app that is not the workspace's (one statement: on PostgreSQL each is a
    round trip)."""
    # No stored id holds a NUL, and PostgreSQL refuses one in a parameter: not found.
    probe = None if app_id is None or "\x00" in app_id else app_id
    row = session.execute(
        _scope_statement(app_id is not None),
        {"workspace_id": workspace_id, "app_id": probe, "now": now},
    ).first()
    if row is None:
        raise NotFound(f"no workspace {workspace_id!r}")
    timezone, app_found, pending_rows, due = row
    if not app_found:
        raise NotFound(f"no app {app_id!r}")
    return timezone, bool(pending_rows or due)


@lru_cache(maxsize=2)
def _scope_statement(with_app: bool) -> Select[str, bool, bool, bool]:
    w, a = table_of(Workspace).c, table_of(App).c
    p, c = table_of(PendingMetering).c, table_of(Conversation).c
    workspace_id = bindparam("workspace_id", type_=String)
    app = (
        exists().where(a.workspace_id == workspace_id, a.id == bindparam("app_id", type_=String))
        if with_app
        else true()
    )
    return select(
        w.timezone,
        app,
        exists().where(p.workspace_id == workspace_id),
        exists().where(
            c.workspace_id == workspace_id, c.due_at <= bindparam("now", type_=BigInteger)
        ),
    ).where(w.id == workspace_id)


def usage_report(
    session: Session, *, workspace_id: str, app_id: str | None, window: Window, now: Micros
) -> UsageReport:
    sums = _session_counts(session, workspace_id=workspace_id, app_id=app_id, window=window)
    agents, agents_total = _agents(
        session, workspace_id=workspace_id, app_id=app_id, window=window, now=now
    )
    series = []
    for index, bucket in enumerate(window.buckets):
        usage, alert, voice = sums[index]
        series.append(
            UsagePoint(
                start=local_iso(bucket.start, window.tz),
                end=local_iso(bucket.end, window.tz),
                billing_sessions=usage + alert,
                usage_sessions=usage,
                alert_sessions=alert,
                voice_sessions=voice,
                agents=agents[index],
            )
        )
    usage_total = sum(point.usage_sessions for point in series)
    alert_total = sum(point.alert_sessions for point in series)
    totals = UsageCounts(
        billing_sessions=usage_total + alert_total,
        usage_sessions=usage_total,
        alert_sessions=alert_total,
        voice_sessions=sum(point.voice_sessions for point in series),
        agents=agents_total,
    )
    return UsageReport(
        app_id=app_id,
        tz=window.tz,
        range=window.range.value,
        granularity=window.granularity.value,
        from_=local_iso(window.start, window.tz),
        to=local_iso(window.end, window.tz),
        series=series,
        totals=totals,
    )


def _session_counts(
    session: Session, *, workspace_id: str, app_id: str | None, window: Window
) -> list[list[int]]:
    """Usage, alert and voice sessions per bucket, summed by the database: one row per
    bucket comes back, however long the window."""
    if not window.buckets:
        return []
    dialect = session.get_bind().dialect.name
    bounds = [bucket.start // SLOT for bucket in window.buckets]
    params = {
        "workspace_id": workspace_id,
        "app_id": app_id,
        "first": bounds[0],
        "end": window.end // SLOT,
        **bucket_params(bounds, dialect),
    }
    sums = [[0, 0, 0] for _ in window.buckets]
    query = _sums_statement(app_id is not None, len(bounds), dialect)
    for index, usage, alert, voice in session.execute(query, params):
        sums[int(index)] = [int(usage), int(alert), int(voice)]
    return sums


@lru_cache(maxsize=64)
def _sums_statement(one_app: bool, buckets: int, dialect: str) -> Select[int, int, int, int]:
    """Built once per shape: only the parameters change from one read to the next."""
    r = table_of(UsageRollup if one_app else WorkspaceUsageRollup).c
    scope = r.workspace_id == bindparam("workspace_id", type_=String)
    if one_app:
        scope &= r.app_id == bindparam("app_id", type_=String)
    bucket = bucket_index(r.slot, buckets, dialect).label("bucket")
    return (
        select(
            bucket,
            func.sum(r.usage_sessions),
            func.sum(r.alert_sessions),
            func.sum(r.voice_sessions),
        )
        .where(
            scope,
            r.slot >= bindparam("first", type_=BigInteger),
            r.slot < bindparam("end", type_=BigInteger),
        )
        .group_by(bucket)
    )


def _agents(
    session: Session, *, workspace_id: str, app_id: str | None, window: Window, now: Micros
) -> tuple[list[int], int]:
    """Distinct seats per bucket and over the window (SPEC §2.6)."""
    mask = None
    ordinal_of = None
    if app_id is not None:
        ordinal_of = _ordinals(session, workspace_id=workspace_id, app_id=app_id)
        if not ordinal_of:  # an app that never had a seat (most bots): nothing more to read
            return [0] * len(window.buckets), 0
        mask = 0
        for ordinal in ordinal_of.values():
            mask |= 1 << ordinal
    return agents_by_bucket(
        session,
        workspace_id=workspace_id,
        mask=mask,
        bucket_bounds=[(bucket.start, bucket.end) for bucket in window.buckets],
        open_seats=_open_seats(
            session, workspace_id=workspace_id, app_id=app_id, window=window, ordinal_of=ordinal_of
        ),
        now=now,
    )


def _ordinals(
    session: Session, *, workspace_id: str, app_id: str | None
) -> dict[tuple[str, str], int]:
    """The seat ordinal of each (app, agent) of the workspace, or of one app."""
    a = table_of(AgentSeat).c
    query = select(a.app_id, a.agent_id, a.ordinal).where(
        a.workspace_id == workspace_id, a.ordinal.is_not(None)
    )
    if app_id is not None:
        query = query.where(a.app_id == app_id)
    return {(app, agent): ordinal for app, agent, ordinal in session.execute(query)}


def _open_seats(
    session: Session,
    *,
    workspace_id: str,
    app_id: str | None,
    window: Window,
    ordinal_of: dict[tuple[str, str], int] | None,
) -> list[tuple[int, Micros]]:
    """(ordinal, start) of the seats still held that began before the window ends.

    Two small queries joined here rather than one SQL join, whose plan PostgreSQL gets
    wrong until it has statistics on these (small) tables.
    """
    s = table_of(SeatInterval).c
    query = select(s.app_id, s.agent_id, s.start).where(
        s.workspace_id == workspace_id, s.end.is_(None), s.start < window.end
    )
    if app_id is not None:
        query = query.where(s.app_id == app_id)
    held = list(session.execute(query))
    if not held:
        return []
    if ordinal_of is None:
        ordinal_of = _ordinals(session, workspace_id=workspace_id, app_id=app_id)
    return [
        (ordinal_of[(app, agent)], start)
        for app, agent, start in held
        if (app, agent) in ordinal_of
    ]


def billing_sessions(
    session: Session,
    *,
    workspace_id: str,
    app_id: str | None,
    start: Micros,
    end: Micros,
    kind: str | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[BillingSession]:
    b = table_of(BillingSession).c
    query = select(BillingSession).where(
        b.workspace_id == workspace_id, b.completed.is_(True), b.start >= start, b.start < end
    )
    if app_id is not None:
        query = query.where(b.app_id == app_id)
    if kind is not None:
        query = query.where(b.type == kind)
    if after is not None:
        after_start, after_id = after
        query = query.where(
            or_(b.start > after_start, (b.start == after_start) & (b.id > after_id))
        )
    return list(session.scalars(query.order_by(b.start, b.id).limit(limit)))


def billing_session_out(row: BillingSession) -> BillingSessionOut:
    def iso(instant: Micros | None) -> str | None:
        return None if instant is None else from_micros(instant).isoformat().replace("+00:00", "Z")

    return BillingSessionOut(
        billing_session_id=f"bs_{row.id}",
        type=row.type,
        app_id=row.app_id,
        channel=row.channel,
        conversation_id=row.conversation_id,
        conversation_session_start=iso(row.conversation_session_start),
        conversation_session_end=iso(row.conversation_session_end),
        start=iso(row.start) or "",
        end=iso(row.end) or "",
    )
