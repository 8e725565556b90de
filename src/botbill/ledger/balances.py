"""Booking ledger entries and reading balances. Flushes; the caller commits.

An app's balance is the sum of its ledger entries. Every booking also moves the app's row
in ``balances`` (in the same transaction), so a balance is read from one row, however
long the ledger grows. Only an app with a promotional credit that has expired and whose
lapse is not booked yet needs its ledger replayed (``wallet/ledger.py``); write paths
book those lapses first (:func:`book_lapses`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botbill.kit.db import table_of
from botbill.kit.instants import Micros
from botbill.kit.problems import Conflict
from botbill.ledger.entries import Entry, EntryKind, Lot, pending_lapses, promotional_remaining
from botbill.ledger.models import Balance, LedgerEntry


@dataclass(frozen=True, slots=True)
class AppKey:
    workspace_id: str
    app_id: str


def book(
    session: Session,
    *,
    workspace_id: str,
    app_id: str,
    currency: str,
    kind: EntryKind,
    amount: int,
    at: Micros,
    reference: str | None = None,
    entry_key: str | None = None,
    expires_at: Micros | None = None,
    lot_id: int | None = None,
) -> LedgerEntry:
    """Append one entry. ``entry_key`` makes the booking happen at most once."""
    if type(amount) is not int:
        raise TypeError("ledger amounts are integer minor units")
    entry = LedgerEntry(
        workspace_id=workspace_id,
        app_id=app_id,
        at=at,
        kind=kind.value,
        amount=amount,
        currency=currency,
        reference=reference,
        entry_key=entry_key,
        expires_at=expires_at,
        lot_id=lot_id,
    )
    session.add(entry)
    try:
        session.flush()
    except IntegrityError:  # a bug or a race: the whole unit of work rolls back
        raise Conflict(f"ledger entry {entry_key!r} is already booked") from None
    session.execute(
        _MOVE_BALANCE[session.get_bind().dialect.name],
        {"workspace_id": workspace_id, "app_id": app_id, "amount": amount, "entries": 1},
    )
    return entry


def _move_balance(insert: Any) -> Any:
    statement = insert(table_of(Balance))
    return statement.on_conflict_do_update(
        index_elements=["workspace_id", "app_id"],
        set_={
            "amount": statement.table.c.amount + statement.excluded.amount,
            "entries": statement.table.c.entries + 1,
        },
    )


_MOVE_BALANCE = {"postgresql": _move_balance(pg_insert), "sqlite": _move_balance(sqlite_insert)}


def entries_of(session: Session, workspace_id: str, app_id: str) -> list[Entry]:
    rows = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.workspace_id == workspace_id, LedgerEntry.app_id == app_id)
        .order_by(LedgerEntry.at, LedgerEntry.id)
    )
    return [
        Entry(
            id=row.id,
            at=row.at,
            kind=EntryKind(row.kind),
            amount=row.amount,
            expires_at=row.expires_at,
            lot=row.lot_id,
        )
        for row in rows
    ]


_balances = table_of(Balance)
_ledger = table_of(LedgerEntry)
_lapses = _ledger.alias("lapse")

# Built once (Core, bound parameters): this runs before every balance read and write.
_DUE_LAPSES = (
    select(_ledger.c.app_id)
    .where(
        _ledger.c.workspace_id == bindparam("workspace_id"),
        _ledger.c.kind == EntryKind.PROMO_GRANT.value,
        _ledger.c.expires_at <= bindparam("now"),
        ~select(_lapses.c.id).where(_lapses.c.lot_id == _ledger.c.id).exists(),
    )
    .distinct()
)
_DUE_LAPSES_OF_APPS = _DUE_LAPSES.where(_ledger.c.app_id.in_(bindparam("app_ids", expanding=True)))


def apps_with_due_lapses(
    session: Session, workspace_id: str, app_ids: Collection[str] | None, now: Micros
) -> set[str]:
    """The apps with a promotional credit expired by ``now`` whose lapse is not booked."""
    params: dict[str, Any] = {"workspace_id": workspace_id, "now": now}
    statement = _DUE_LAPSES
    if app_ids is not None:
        statement, params["app_ids"] = _DUE_LAPSES_OF_APPS, list(app_ids)
    return set(session.execute(statement, params).scalars())


def balances_of(
    session: Session, workspace_id: str, app_ids: Collection[str], now: Micros
) -> dict[str, int]:
    """Each app's balance at ``now`` (expired promotional credit already taken off)."""
    if not app_ids:
        return {}
    result = dict.fromkeys(app_ids, 0)
    # (not ``dict(result)``: a Result has ``keys()``, so dict() would take it for a mapping)
    b = _balances.c
    for app_id, amount in session.execute(
        select(b.app_id, b.amount).where(b.workspace_id == workspace_id, b.app_id.in_(app_ids))
    ):
        result[app_id] = int(amount)
    for app_id in apps_with_due_lapses(session, workspace_id, app_ids, now):
        due = pending_lapses(entries_of(session, workspace_id, app_id), now)
        result[app_id] -= sum(lapse.amount for lapse in due)
    return result


def balance_of(session: Session, workspace_id: str, app_id: str, now: Micros) -> int:
    return balances_of(session, workspace_id, [app_id], now)[app_id]


def has_due_lapses(session: Session, workspace_id: str, app_id: str | None, now: Micros) -> bool:
    apps = None if app_id is None else [app_id]
    return bool(apps_with_due_lapses(session, workspace_id, apps, now))


def book_lapses(
    session: Session, *, workspace_id: str, app_id: str, currency: str, now: Micros
) -> int:
    """Book every promotional lapse due by ``now``; returns how many."""
    if not has_due_lapses(session, workspace_id, app_id, now):
        return 0
    due = pending_lapses(entries_of(session, workspace_id, app_id), now)
    for lapse in due:
        book(
            session,
            workspace_id=workspace_id,
            app_id=app_id,
            currency=currency,
            kind=EntryKind.PROMO_LAPSE,
            amount=-lapse.amount,
            at=lapse.at,
            reference=f"promo:{lapse.grant_id}",
            entry_key=f"lapse:{lapse.grant_id}",
            lot_id=lapse.grant_id,
        )
    return len(due)


def live_promotions(session: Session, workspace_id: str, app_id: str, now: Micros) -> list[Lot]:
    """The app's promotional credits still live with something left, soonest first."""
    has_live = session.scalars(
        select(LedgerEntry.id).where(
            LedgerEntry.workspace_id == workspace_id,
            LedgerEntry.app_id == app_id,
            LedgerEntry.kind == EntryKind.PROMO_GRANT.value,
            LedgerEntry.expires_at > now,
        )
    ).first()
    if has_live is None:
        return []
    return promotional_remaining(entries_of(session, workspace_id, app_id), now)
